import { AgentEvents, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { contracts, TURN_STEP_QUEUE } from '@iii-harness/types';
import { type Config, configSchema, envOverrides } from './config.js';
import { getDecision, holdCall, listPending } from './hold.js';
import type { Deps } from './resolution.js';
import { cancel, resolve, sweep } from './resolve.js';
import { addAlwaysAllow, clearSettings, getSettings, removeAlwaysAllow, setMode } from './settings.js';
import { ApprovalStore } from './store.js';

const { approval } = contracts;

/**
 * The whole bus surface of approval-gate. It owns state scopes `approval_pending`,
 * `approval_decisions` and `approval_settings`, writes `approval_*` items of `agent::events`, and
 * enqueues wake-ups on `turn-step`. Agents can call none of it (kernel deny list).
 */
export async function register(worker: Worker<Config>): Promise<void> {
  const deps: Deps = { store: new ApprovalStore(worker.bus, worker.config), events: new AgentEvents(worker.bus) };
  // Used by the turn orchestrator.
  worker.function(approval.hold, holdCall(deps));
  worker.function(approval.getDecision, getDecision(deps));
  worker.function(approval.cancel, cancel(deps));
  // Used by people (console, CLI, bots); get_settings by the orchestrator too.
  worker.function(approval.resolve, resolve(deps));
  worker.function(approval.listPending, listPending(deps));
  worker.function(approval.getSettings, getSettings(deps));
  worker.function(approval.setMode, setMode(deps));
  worker.function(approval.addAlwaysAllow, addAlwaysAllow(deps));
  worker.function(approval.removeAlwaysAllow, removeAlwaysAllow(deps));
  worker.function(approval.clearSettings, clearSettings(deps));
  // Housekeeping.
  worker.function(approval.sweep, sweep(deps, worker.config));
  worker.trigger({ type: 'cron', function_id: approval.sweep.id, config: { expression: worker.config.sweep_cron } });
  await worker.bus.defineQueue(TURN_STEP_QUEUE.queue, TURN_STEP_QUEUE.config);
}

export const approvalGateWorker: WorkerSpec<Config> = {
  name: 'approval-gate',
  description: 'Human decisions on held agent function calls: holds, resolution, per-session modes, timeout sweep',
  config: configSchema,
  env: envOverrides,
  register,
};
