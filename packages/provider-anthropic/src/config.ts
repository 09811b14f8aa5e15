import { providerConfigShape, providerEnvOverrides } from '@iii-harness/provider-kit';
import { z } from 'zod';

export const DEFAULT_ANTHROPIC_URL = 'https://api.anthropic.com';
export const ANTHROPIC_KEY_ENV = 'ANTHROPIC_API_KEY';

export const configSchema = z
  .object({
    ...providerConfigShape,
    /** `max_tokens` when neither the request nor the harness's provider config sets one. */
    max_tokens: z.number().int().positive().default(8192),
    /** Thinking budget when a request enables thinking without a budget or effort. */
    thinking_budget_tokens: z.number().int().min(1024).default(4096),
    /** Prompt-caching breakpoints (`cache_control: {type: 'ephemeral'}`). */
    cache_system: z.boolean().default(true),
    cache_tools: z.boolean().default(true),
    cache_last_message: z.boolean().default(true),
    /**
     * Tools Anthropic runs on its side, offered on every request as Anthropic defines them, e.g.
     * `{type: web_search_20250305, name: web_search, max_uses: 5}`, `{type: web_fetch_20250910,
     * name: web_fetch}`, `{type: code_execution_20250825, name: code_execution}`. Their use and
     * results come back as `server_tool_use` / `server_tool_result` blocks.
     */
    server_tools: z.array(z.object({ type: z.string().min(1), name: z.string().min(1) }).loose()).default([]),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  ...providerEnvOverrides('IIH_ANTHROPIC'),
  IIH_ANTHROPIC_MAX_TOKENS: 'max_tokens',
  IIH_ANTHROPIC_THINKING_BUDGET_TOKENS: 'thinking_budget_tokens',
};
