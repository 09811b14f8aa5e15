import {
  classifyError,
  type ProviderTools,
  serverRoot,
  toHarnessError,
  VendorHttpError,
  vendorJson,
} from '@iii-harness/provider-kit';
import { defineFunction, HarnessError, type Logger, type Worker } from '@iii-harness/runtime';
import { z } from 'zod';
import type { Config } from './config.js';

const loadInput = z
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
const loadOutput = z.object({
  instance_id: z.string(),
  model: z.string(),
  type: z.string(),
  status: z.string(),
  load_time_seconds: z.number().optional(),
});

const unloadInput = z.object({ instance_id: z.string().min(1) }).strict();
const unloadOutput = z.object({ instance_id: z.string() });

/** Vendor failures as bus errors: an unknown model or instance is `not_found`, the rest `provider_error`. */
function toBusError(error: unknown): HarnessError {
  if (error instanceof VendorHttpError && error.status === 404) return new HarnessError('not_found', error.message);
  return toHarnessError(classifyError(error));
}

/** After a load or unload the catalog's windows change: refresh it, without making the caller wait. */
function refreshLater(worker: Worker<Config>, logger: Logger): void {
  worker.bus
    .call('provider::lmstudio::refresh_models', {}, { timeoutMs: 60_000 })
    .catch((error: unknown) => logger.warn({ err: String(error) }, 'model refresh after load/unload failed'));
}

/** `provider::lmstudio::load_model` → LM Studio's `POST /api/v1/models/load` (LM Studio ≥ 0.4). */
export function loadModel(worker: Worker<Config>, tools: ProviderTools) {
  return defineFunction({
    id: 'provider::lmstudio::load_model',
    description:
      'Load a downloaded LM Studio model into memory (optionally with a context length); returns its instance id',
    input: loadInput,
    output: loadOutput,
    async handler(input, { logger }) {
      const settings = await tools.settings();
      const url = `${serverRoot(settings.api_url)}/api/v1/models/load`;
      const answer = await vendorJson<{
        instance_id?: string;
        model_instance_id?: string;
        type?: string;
        status?: string;
        load_time_seconds?: number;
      }>(url, {
        method: 'POST',
        body: input,
        token: settings.credential.token ?? 'lm-studio',
        timeoutMs: worker.config.load_timeout_ms,
      }).catch((error: unknown) => {
        throw toBusError(error);
      });
      // Docs before 0.4 GA named the field model_instance_id.
      const instanceId = answer.instance_id ?? answer.model_instance_id;
      if (!instanceId) throw new HarnessError('provider_error', 'LM Studio answered the load without an instance id');
      refreshLater(worker, logger);
      return {
        instance_id: instanceId,
        model: input.model,
        type: answer.type ?? 'llm',
        status: answer.status ?? 'loaded',
        ...(answer.load_time_seconds !== undefined ? { load_time_seconds: answer.load_time_seconds } : {}),
      };
    },
  });
}

/** `provider::lmstudio::unload_model` → LM Studio's `POST /api/v1/models/unload`. */
export function unloadModel(worker: Worker<Config>, tools: ProviderTools) {
  return defineFunction({
    id: 'provider::lmstudio::unload_model',
    description: 'Unload a loaded LM Studio model instance from memory by its instance id',
    input: unloadInput,
    output: unloadOutput,
    async handler({ instance_id }, { logger }) {
      const settings = await tools.settings();
      const answer = await vendorJson<{ instance_id?: string }>(
        `${serverRoot(settings.api_url)}/api/v1/models/unload`,
        {
          method: 'POST',
          body: { instance_id },
          token: settings.credential.token ?? 'lm-studio',
          timeoutMs: worker.config.unload_timeout_ms,
        },
      ).catch((error: unknown) => {
        throw toBusError(error);
      });
      refreshLater(worker, logger);
      return { instance_id: answer.instance_id ?? instance_id };
    },
  });
}
