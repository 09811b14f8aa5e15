import { type ProviderTools, serverRoot, VendorHttpError, vendorJson } from '@iii-harness/provider-kit';
import { type Handler, HarnessError, type Logger, type Worker } from '@iii-harness/runtime';
import { contracts, type ResolvedProvider } from '@iii-harness/types';
import type { Config } from './config.js';

/** Vendor failures as bus errors: an unknown model or instance is `not_found`, the rest `provider_error`. */
function toBusError(error: unknown, tools: ProviderTools, settings: ResolvedProvider): HarnessError {
  if (error instanceof VendorHttpError && error.status === 404) return new HarnessError('not_found', error.message);
  return tools.toBusError(error, settings);
}

/** After a load or unload the catalog's windows change: refresh it, without making the caller wait. */
function refreshLater(worker: Worker<Config>, logger: Logger): void {
  worker.bus
    .call(contracts.provider.refreshModels('lmstudio'), {}, { timeoutMs: 60_000 })
    .catch((error: unknown) => logger.warn({ err: String(error) }, 'model refresh after load/unload failed'));
}

/** `provider::lmstudio::load_model` → LM Studio's `POST /api/v1/models/load` (LM Studio ≥ 0.4). */
export function loadModel(worker: Worker<Config>, tools: ProviderTools): Handler<typeof contracts.lmstudio.loadModel> {
  return async (input, { logger }) => {
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
      throw toBusError(error, tools, settings);
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
  };
}

/** `provider::lmstudio::unload_model` → LM Studio's `POST /api/v1/models/unload`. */
export function unloadModel(
  worker: Worker<Config>,
  tools: ProviderTools,
): Handler<typeof contracts.lmstudio.unloadModel> {
  return async ({ instance_id }, { logger }) => {
    const settings = await tools.settings();
    const answer = await vendorJson<{ instance_id?: string }>(`${serverRoot(settings.api_url)}/api/v1/models/unload`, {
      method: 'POST',
      body: { instance_id },
      token: settings.credential.token ?? 'lm-studio',
      timeoutMs: worker.config.unload_timeout_ms,
    }).catch((error: unknown) => {
      throw toBusError(error, tools, settings);
    });
    refreshLater(worker, logger);
    return { instance_id: answer.instance_id ?? instance_id };
  };
}
