import { uuidv7, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { compactNow, compactSession, pruneToolOutputs } from './compact.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { getState } from './get-state.js';
import { HealthStore } from './health.js';
import { Leases } from './lease.js';
import { plan } from './plan.js';

const { compaction } = contracts;

/**
 * The whole bus surface of context-compaction: functions only. It owns state scope `state_scope`
 * (`lease:<session_id>`, `health:<session_id>`), reads sessions and the models catalog, calls the
 * summariser through `provider::<id>::complete`, and appends compaction entries to sessions.
 */
export function register(worker: Worker<Config>): void {
  const { config } = worker;
  const deps = {
    config,
    leases: new Leases(worker.bus, config.state_scope, config.lease_ttl_ms),
    health: new HealthStore(worker.bus, config.state_scope, config.breaker_threshold),
    holder: `${worker.name}:${uuidv7()}`,
  };
  worker.function(compaction.plan, plan(deps));
  worker.function(compaction.compactNow, compactNow(deps));
  worker.function(compaction.compactSession, compactSession(deps));
  worker.function(compaction.pruneToolOutputs, pruneToolOutputs(deps));
  worker.function(compaction.getState, getState(deps));
}

export const contextCompactionWorker: WorkerSpec<Config> = {
  name: 'context-compaction',
  description:
    'Keeps sessions inside the model window: caps and prunes function results, then summarises with a structured summary and a fact ledger',
  config: configSchema,
  env: envOverrides,
  register,
};
