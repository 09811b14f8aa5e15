import type { Turn } from '../turn.js';
import { gateAndRun, settleBatch, settleInterrupted } from './batch.js';
import { finishAborted } from './finish-aborted.js';

/**
 * Every call of the assistant's message, in order: allowed calls run at once, denied calls get
 * a denial result, held calls park together and do not block their siblings.
 */
export async function functionExecute(turn: Turn): Promise<void> {
  const calls = turn.record.batch?.calls ?? [];
  await settleInterrupted(turn, calls);
  for (const call of calls) {
    if (call.status !== 'prepared') continue;
    if (await turn.abortRequested()) return finishAborted(turn);
    await gateAndRun(turn, call);
  }
  await settleBatch(turn);
}
