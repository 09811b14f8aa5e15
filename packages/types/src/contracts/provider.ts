import { z } from 'zod';
import { contractFamily } from '../contract.js';
import { assistantMessage, message, stopReason, usage } from '../messages.js';
import { channelArg, providerId } from '../provider.js';
import { thinkingConfig, toolSpec } from '../tools.js';

/**
 * The four functions every provider worker serves under `provider::<id>::*` (ARCHITECTURE §5.8):
 * one family each, so `contracts.provider.stream('anthropic')` is the contract of
 * `provider::anthropic::stream`.
 */

const request = {
  /** Caller-chosen id; `provider::<id>::abort {request_id}` stops this request. */
  request_id: z.string().min(1).max(200),
  model: z.string().min(1),
  messages: z.array(message).min(1),
  system: z.string().optional(),
  tools: z.array(toolSpec).optional(),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  thinking: thinkingConfig.optional(),
};

export const providerRequest = z.object(request).strict();
export type ProviderRequest = z.output<typeof providerRequest>;

export const providerStreamInput = z.object({ ...request, channel: channelArg }).strict();

export const provider = {
  stream: contractFamily((id) => `provider::${id}::stream`, {
    description: "Stream a completion as normalized events to the caller's channel",
    input: providerStreamInput,
    output: z.object({ stop_reason: stopReason, usage }),
  }),
  complete: contractFamily((id) => `provider::${id}::complete`, {
    description: 'Run a completion and return the final assistant message',
    input: providerRequest,
    output: z.object({ message: assistantMessage }),
  }),
  abort: contractFamily((id) => `provider::${id}::abort`, {
    description: 'Abort an in-flight request by its request_id (closes the upstream HTTP stream)',
    input: z.object({ request_id: z.string().min(1) }).strict(),
    output: z.object({ aborted: z.boolean() }),
  }),
  refreshModels: contractFamily((id) => `provider::${id}::refresh_models`, {
    description: 'Discover the models and write them to the catalog (models::reconcile)',
    input: z.object({}).strict(),
    output: z.object({ provider: providerId, count: z.number().int(), ids: z.array(z.string()) }),
  }),
};
