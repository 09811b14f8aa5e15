import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { ReplyCollector } from './collector.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { publishCollect } from './publish-collect.js';
import { reply } from './reply.js';

const { hookFanout } = contracts;

/** The whole bus surface of hook-fanout: functions only; it publishes on the hook topics it is given. */
export function register(worker: Worker<Config>): void {
  const collector = new ReplyCollector();
  worker.function(hookFanout.publishCollect, publishCollect(collector, worker.config));
  worker.function(hookFanout.reply, reply(collector));
}

export const hookFanoutWorker: WorkerSpec<Config> = {
  name: 'hook-fanout',
  description: 'Publish a hook on a durable topic, collect subscriber replies for a bounded window, merge them',
  config: configSchema,
  env: envOverrides,
  register,
};
