import { z } from 'zod';
import { jsonObject } from './json.js';

/** A tool offered to the model: name, description, and a JSON Schema for its arguments. */
export const toolSpec = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 chars of letters, digits, _ and -'),
  description: z.string(),
  parameters: jsonObject,
});
export type ToolSpec = z.infer<typeof toolSpec>;

/** Reasoning settings; each provider maps them onto its own knobs (budget tokens, effort). */
export const thinkingConfig = z.object({
  enabled: z.boolean().default(true),
  budget_tokens: z.number().int().positive().optional(),
  effort: z.enum(['minimal', 'low', 'medium', 'high']).optional(),
});
export type ThinkingConfig = z.infer<typeof thinkingConfig>;
