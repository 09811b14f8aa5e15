import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { checkPermissions } from './check-permissions.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { compileKernel } from './kernel-deny.js';
import { listProviders } from './list-providers.js';
import { PolicyLoader } from './policy-loader.js';
import { ProviderStore } from './provider-store.js';
import { registerProvider } from './register-provider.js';
import { resolveProvider } from './resolve-provider.js';
import { send, status, stop } from './send.js';
import { fanoutAgentEvent, UiFanout } from './ui-fanout.js';
import { FanoutTrigger } from './ui-fanout-trigger.js';
import { uiSubscribe, uiUnsubscribe } from './ui-subscribe.js';
import { UiSubscriptions } from './ui-subscriptions.js';

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

  // Provider registry, persisted in engine state.
  const providers = new ProviderStore(bus, config);
  worker.function(harness.providerRegister, registerProvider(providers));
  worker.function(harness.providerList, listProviders(providers));
  worker.function(harness.providerResolve, resolveProvider(providers, config.auth_timeout_ms));

  // UI fan-out: agent::events items → ui::session::event::<client_id> of the clients following
  // the session; the stream trigger exists only while someone follows.
  const uiLogger = logger.child({ component: 'ui' });
  const fanoutTrigger = new FanoutTrigger(bus, () =>
    worker.trigger({
      type: 'stream',
      function_id: harness.uiFanout.id,
      config: { stream_name: config.agent_events_stream },
    }),
  );
  const subscriptions = new UiSubscriptions(bus, config.ui_scope, uiLogger, (anyone) => fanoutTrigger.set(anyone));
  const fanout = new UiFanout(
    bus,
    subscriptions,
    { timeoutMs: config.ui_push_timeout_ms, maxPending: config.ui_max_pending },
    uiLogger,
  );
  worker.onShutdown(() => fanout.close());
  worker.function(ui.subscribe, uiSubscribe(subscriptions));
  worker.function(ui.unsubscribe, uiUnsubscribe(subscriptions));
  worker.function(harness.uiFanout, fanoutAgentEvent(fanout));
  // Clients that followed sessions before a restart are served again at once.
  await subscriptions.ready().catch(async (error: unknown) => {
    uiLogger.warn(
      { err: error },
      'could not read the UI subscriptions; fanning out every event until they can be read',
    );
    await fanoutTrigger.set(true);
  });

  // Front door: a user message in, a turn started or merged; status; stop.
  worker.function(harness.send, send(config));
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
