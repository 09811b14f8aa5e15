import { HarnessError } from '@iii-harness/runtime';
import type { StepResult, TurnRun } from '../turn.js';
import { runBatch } from './batch.js';

/**
 * The assistant's function calls, decided when the message arrived: allowed calls run, denied
 * calls have their denial, held calls park together and do not block their siblings.
 */
export async function functionExecute(run: TurnRun): Promise<StepResult> {
  const batch = run.record.batch;
  if (!batch) throw new HarnessError('internal', 'function_execute without a batch');
  return runBatch(run, batch);
}

/**
 * A parked batch woke up (a decision landed, or recovery): each held call takes the decision made
 * for it, in any order; allowed ones run; the batch stays parked while some call still waits.
 */
export const functionAwaitingApproval = functionExecute;
