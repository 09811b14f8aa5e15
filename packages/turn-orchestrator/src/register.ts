import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts, TURN_STEP_QUEUE } from '@iii-harness/types';
import { WorkerCaches } from './caches.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { driveTurn } from './driver.js';
import { getState } from './get-state.js';
import { recover, recoverTurns } from './recovery.js';
import { runAbort } from './run-abort.js';
import { runStart } from './run-start.js';
import { TurnStore } from './store.js';
import type { Deps } from './turn.js';

const { run, turn } = contracts;

/** The whole bus surface of the turn orchestrator. Agents can call none of it (kernel: run::*, turn::*). */
export async function register(worker: Worker<Config>): Promise<void> {
  const deps: Deps = {
    bus: worker.bus,
    logger: worker.logger,
    config: worker.config,
    store: new TurnStore(worker.bus, worker.logger),
    caches: new WorkerCaches(worker.bus, worker.logger, worker.config),
    shutdown: worker.shutdownSignal,
  };
  worker.function(run.start, runStart(deps));
  worker.function(run.abort, runAbort(deps));
  worker.function(turn.getState, getState(deps));

  // The step jobs, only ever enqueued on the FIFO queue turn-step (one group per session). Whatever
  // state a job names, its delivery drives the turn from the state the record is in.
  const drive = driveTurn(deps);
  worker.function(turn.provisioning, drive);
  worker.function(turn.assistantStreaming, drive);
  worker.function(turn.functionExecute, drive);
  worker.function(turn.functionAwaitingApproval, drive);
  worker.function(turn.steeringCheck, drive);
  await worker.bus.defineQueue(TURN_STEP_QUEUE.queue, TURN_STEP_QUEUE.config);

  worker.function(turn.recover, recover(deps));
  worker.trigger({ type: 'cron', function_id: turn.recover.id, config: { expression: worker.config.recovery_cron } });
  // Once the worker is connected: every live turn gets a job again.
  setImmediate(
    () =>
      void recoverTurns(deps, false).catch((error: unknown) =>
        worker.logger.warn({ err: (error as Error).message }, 'start-up recovery failed'),
      ),
  );
}

export const turnOrchestratorWorker: WorkerSpec<Config> = {
  name: 'turn-orchestrator',
  description:
    'The durable seven-state agent turn on a FIFO step queue: streaming, gated calls, approvals, steering, aborts',
  config: configSchema,
  env: envOverrides,
  register,
};
