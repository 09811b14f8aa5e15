import { errorResult, INTERRUPTED } from '../results.js';
import { appendResults } from '../transcript.js';
import type { Turn } from '../turn.js';

/**
 * End an aborted turn cleanly: every call of an open batch gets a result (held calls are
 * cancelled at the gate), so the transcript never holds a call without its result.
 */
export async function finishAborted(turn: Turn): Promise<void> {
  const { bus } = turn.deps;
  const record = turn.record;
  if (record.batch) {
    for (const call of record.batch.calls) {
      if (call.status === 'done') continue;
      if (call.status === 'held')
        await bus
          .call('approval::cancel', {
            session_id: record.session_id,
            function_call_id: call.function_call_id,
            reason: 'turn aborted',
          })
          .catch(() => undefined);
      call.result =
        call.status === 'triggered'
          ? errorResult(INTERRUPTED)
          : errorResult('aborted: the turn was stopped before this call ran');
      call.status = 'done';
    }
    await appendResults(bus, record.session_id, record.turn_id, record.batch.calls);
    record.batch = undefined;
  }
  await turn.finish('aborted', 'aborted by request');
}
