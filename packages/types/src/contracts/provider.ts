import { z } from 'zod';
import { contract, contractFamily } from '../contract.js';
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

/** LM Studio's own functions beside the four (its REST API: `/api/v1/models/load|unload`). */
export const lmstudioLoadInput = z
  .object({
    /** The model key as LM Studio lists it. */
    model: z.string().min(1),
    context_length: z.number().int().positive().optional(),
    eval_batch_size: z.number().int().positive().optional(),
    flash_attention: z.boolean().optional(),
    num_experts: z.number().int().positive().optional(),
    offload_kv_cache_to_gpu: z.boolean().optional(),
  })
  .strict();

export const lmstudio = {
  loadModel: contract({
    id: 'provider::lmstudio::load_model',
    description:
      'Load a downloaded LM Studio model into memory (optionally with a context length); returns its instance id',
    input: lmstudioLoadInput,
    output: z.object({
      instance_id: z.string(),
      model: z.string(),
      type: z.string(),
      status: z.string(),
      load_time_seconds: z.number().optional(),
    }),
  }),
  unloadModel: contract({
    id: 'provider::lmstudio::unload_model',
    description: 'Unload a loaded LM Studio model instance from memory by its instance id',
    input: z.object({ instance_id: z.string().min(1) }).strict(),
    output: z.object({ instance_id: z.string() }),
  }),
};
