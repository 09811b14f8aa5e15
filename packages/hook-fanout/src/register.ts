import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { type Config, configSchema, envOverrides } from './config.js';
import { type Deps, publishCollect } from './publish-collect.js';
import { reply, wake } from './reply.js';
import { sweep } from './sweep.js';
import { Waiters, WindowStore } from './windows.js';

const { hookFanout } = contracts;

/**
 * The whole bus surface of hook-fanout. It publishes on the hook topics it is given, keeps its
 * windows in state scope `state_scope` (shared by every copy, on every engine), wakes the copy
 * that waits through pub/sub topic `wake_topic`, and sweeps leftovers on a cron.
 */
export function register(worker: Worker<Config>): void {
  const { config } = worker;
  const deps: Deps = { windows: new WindowStore(worker.bus, config.state_scope), waiters: new Waiters(), config };
  worker.function(hookFanout.publishCollect, publishCollect(deps));
  worker.function(hookFanout.reply, reply(deps));
  worker.function(hookFanout.wake, wake(deps));
  worker.trigger({ type: 'subscribe', function_id: hookFanout.wake.id, config: { topic: config.wake_topic } });
  worker.function(hookFanout.sweep, sweep(deps));
  worker.trigger({ type: 'cron', function_id: hookFanout.sweep.id, config: { expression: config.sweep_cron } });
}

export const hookFanoutWorker: WorkerSpec<Config> = {
  name: 'hook-fanout',
  description: 'Publish a hook on a durable topic, collect subscriber replies for a bounded window, merge them',
  config: configSchema,
  env: envOverrides,
  register,
};
