import { AgentEvents, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { TURN_STEP_QUEUE } from '@iii-harness/types';
import { type Config, configSchema, envOverrides } from './config.js';
import * as fn from './functions.js';
import { ApprovalStore } from './store.js';

/** The whole bus surface of approval-gate. Agents can call none of it (kernel deny list `approval::*`). */
export async function register(worker: Worker<Config>): Promise<void> {
  const deps: fn.Deps = {
    store: new ApprovalStore(worker.bus, worker.config),
    events: new AgentEvents(worker.bus),
    config: worker.config,
  };
  // Used by the turn orchestrator.
  worker.function(fn.holdCall(deps));
  worker.function(fn.getDecision(deps));
  worker.function(fn.cancel(deps));
  // Used by people (console, CLI, bots).
  worker.function(fn.resolve(deps));
  worker.function(fn.listPending(deps));
  worker.function(fn.getSettings(deps));
  worker.function(fn.setMode(deps));
  worker.function(fn.addAlwaysAllow(deps));
  worker.function(fn.removeAlwaysAllow(deps));
  worker.function(fn.clearSettings(deps));
  // Housekeeping.
  worker.function(fn.sweep(deps));
  worker.trigger({ type: 'cron', function_id: 'approval::sweep', config: { expression: worker.config.sweep_cron } });
  await worker.bus.defineQueue(TURN_STEP_QUEUE.queue, TURN_STEP_QUEUE.config);
}

export const approvalGateWorker: WorkerSpec<Config> = {
  name: 'approval-gate',
  description: 'Human decisions on held agent function calls: holds, resolution, per-session modes, timeout sweep',
  config: configSchema,
  env: envOverrides,
  register,
};
