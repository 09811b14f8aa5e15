import {
  discoveredModel,
  type ModelDefaults,
  type ResolvedProvider,
  serverRoot,
  vendorJson,
  withV1,
} from '@iii-harness/provider-kit';
import type { Logger } from '@iii-harness/runtime';
import type { Model, ModelCapability } from '@iii-harness/types';
import type { Config } from './config.js';
import { waitUntilReady } from './readiness.js';

export const LLAMACPP_DEFAULTS: ModelDefaults = {
  context_window: 4_096,
  max_output_tokens: 4_096,
  capabilities: ['tools', 'streaming'],
};

interface Props {
  default_generation_settings?: { n_ctx?: number };
  modalities?: { vision?: boolean };
}

/**
 * The one model llama-server serves: its id from `/v1/models`, its context from `/props`
 * (`default_generation_settings.n_ctx`, the per-slot window a request can use). Waits while loading.
 */
export async function listLlamaCppModels(
  settings: ResolvedProvider,
  config: Config,
  ctx: { signal: AbortSignal; logger: Logger },
): Promise<Model[]> {
  await waitUntilReady(settings, {
    signal: ctx.signal,
    timeoutMs: config.ready_timeout_ms,
    pollMs: config.health_poll_ms,
    logger: ctx.logger,
  });
  const token = settings.credential.token;
  const [list, props] = await Promise.all([
    vendorJson<{ data?: Array<{ id: string }> }>(`${withV1(settings.api_url)}/models`, { token, signal: ctx.signal }),
    vendorJson<Props>(`${serverRoot(settings.api_url)}/props`, { token, signal: ctx.signal }),
  ]);
  const nCtx = props.default_generation_settings?.n_ctx;
  const capabilities: ModelCapability[] = props.modalities?.vision
    ? ['tools', 'streaming', 'images']
    : ['tools', 'streaming'];
  return (list.data ?? []).map((entry) =>
    discoveredModel('llamacpp', entry.id, LLAMACPP_DEFAULTS, {
      ...(nCtx ? { context_window: nCtx } : {}),
      capabilities,
    }),
  );
}
