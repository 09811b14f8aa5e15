import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { checkBatch, checkPermissions } from './check-permissions.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { compileKernel } from './kernel-deny.js';
import { listProviders } from './list-providers.js';
import { PolicyLoader } from './policy-loader.js';
import { ProviderStore } from './provider-store.js';
import { registerProvider } from './register-provider.js';
import { resolveProvider } from './resolve-provider.js';
import { send, status, stop } from './send.js';
import { createUi, relayed, sweepUiClients } from './ui.js';
import { fanoutAgentEvent } from './ui-fanout.js';
import { uiSubscribe, uiUnsubscribe } from './ui-subscribe.js';

const { harness, policy: policyFns, ui } = contracts;

/**
 * The whole bus surface of the harness worker. It owns state scopes `providers_scope`,
 * `ui_scope` and `sends_scope`, and a `stream` trigger on `agent::events` while a UI client follows.
 */
export async function register(worker: Worker<Config>): Promise<void> {
  const { config, bus, logger } = worker;

  // Permissions: the YAML rules file (hot-reloaded) behind the kernel deny list.
  const policy = new PolicyLoader({
    path: config.permissions_path,
    debounceMs: config.reload_debounce_ms,
    settleMs: config.reload_settle_ms,
    pollMs: config.reload_poll_ms,
    logger: logger.child({ component: 'policy' }),
  });
  const kernel = compileKernel([...config.protected_storage, config.providers_scope, config.ui_scope]);
  worker.onShutdown(() => policy.close());
  await policy.start();
  worker.function(policyFns.checkPermissions, checkPermissions(policy, kernel, config.max_match_length));
  worker.function(policyFns.checkBatch, checkBatch(policy, kernel, config.max_match_length));

  // Provider registry, persisted in engine state.
  const providers = new ProviderStore(bus, config);
  worker.function(harness.providerRegister, registerProvider(providers));
  worker.function(harness.providerList, listProviders(providers));
  worker.function(harness.providerResolve, resolveProvider(providers, config.auth_timeout_ms));

  // UI fan-out: agent::events items → ui::session::event::<client_id> of the clients following
  // the session; the stream trigger exists only while someone follows. One copy per engine: each
  // pushes to its engine's clients and relays to the other copies on `ui_relay_topic`.
  const uiParts = createUi(worker);
  worker.function(ui.subscribe, uiSubscribe(uiParts));
  worker.function(ui.unsubscribe, uiUnsubscribe(uiParts));
  worker.function(harness.uiFanout, fanoutAgentEvent(uiParts.fanout));
  worker.function(harness.uiRelay, relayed(uiParts));
  worker.trigger({ type: 'subscribe', function_id: harness.uiRelay.id, config: { topic: config.ui_relay_topic } });
  worker.function(harness.uiSweep, sweepUiClients(uiParts, config));
  worker.trigger({ type: 'cron', function_id: harness.uiSweep.id, config: { expression: config.ui_sweep_cron } });
  await uiParts.start();

  // Front door: a user message in, a turn started or merged; status; stop.
  worker.function(harness.send, send(config, worker.leases));
  worker.function(harness.status, status());
  worker.function(harness.stop, stop());
}

export const harnessWorker: WorkerSpec<Config> = {
  name: 'harness',
  bin: 'iii-harness-worker',
  description: 'The harness front door: permissions policy, provider registry and UI fan-out',
  config: configSchema,
  env: envOverrides,
  register,
};
