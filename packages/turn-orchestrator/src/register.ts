import { AgentEvents, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { TURN_STEP_QUEUE } from '@iii-harness/types';
import { type Config, configSchema, envOverrides } from './config.js';
import { getState } from './get-state.js';
import { TurnStore } from './record.js';
import { recover, recoverTurns } from './recovery.js';
import { runAbort } from './run-abort.js';
import { runStart } from './run-start.js';
import { stepFunction } from './step-runner.js';
import { assistantStreaming } from './steps/assistant-streaming.js';
import { finishAborted } from './steps/finish-aborted.js';
import { functionAwaitingApproval } from './steps/function-awaiting-approval.js';
import { functionExecute } from './steps/function-execute.js';
import { provisioning } from './steps/provisioning.js';
import { steeringCheck } from './steps/steering-check.js';
import type { Deps } from './turn.js';

/** The whole bus surface of the turn orchestrator. Agents can call none of it (kernel: run::*, turn::*). */
export async function register(worker: Worker<Config>): Promise<void> {
  const deps: Deps = {
    bus: worker.bus,
    logger: worker.logger,
    config: worker.config,
    store: new TurnStore(worker.bus),
    events: new AgentEvents(worker.bus),
  };
  worker.function(runStart(deps));
  worker.function(runAbort(deps));
  worker.function(getState(deps));

  // The seven states: five working steps, only ever enqueued on the FIFO queue turn-step (one group per session).
  worker.function(stepFunction('provisioning', provisioning, finishAborted, deps));
  worker.function(stepFunction('assistant_streaming', assistantStreaming, finishAborted, deps));
  worker.function(stepFunction('function_execute', functionExecute, finishAborted, deps));
  worker.function(stepFunction('function_awaiting_approval', functionAwaitingApproval, finishAborted, deps));
  worker.function(stepFunction('steering_check', steeringCheck, finishAborted, deps));
  await worker.bus.defineQueue(TURN_STEP_QUEUE.queue, TURN_STEP_QUEUE.config);

  worker.function(recover(deps));
  worker.trigger({ type: 'cron', function_id: 'turn::recover', config: { expression: worker.config.recovery_cron } });
  // Once the worker is connected: every live turn gets its step again.
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
