import { HarnessError } from '@iii-harness/runtime';
import type { AssistantMessage, FunctionCallBlock } from '@iii-harness/types';
import { streamAssistant } from '../provider-stream.js';
import { type BatchCall, streamRequestId } from '../record.js';
import { errorResult } from '../results.js';
import { resolveCall, toolsFor } from '../tools.js';
import { appendMessage, loadContext } from '../transcript.js';
import type { Turn } from '../turn.js';
import { addUsage } from '../usage.js';
import { finishAborted } from './finish-aborted.js';

/**
 * One generation. The assistant entry id is `<turn_id>:<step>:assistant`: when a redelivered step
 * finds it already on the path, the stored message is used and the provider is not called again.
 */
export async function assistantStreaming(turn: Turn): Promise<void> {
  const { bus } = turn.deps;
  const record = turn.record;
  const entryId = `${record.turn_id}:${record.step}:assistant`;
  const requestId = streamRequestId(record);
  const context = await loadContext(bus, record.session_id);
  const stored = context.find((m) => m.entry_id === entryId)?.message;
  let message: AssistantMessage;
  let failure: { code: string; message: string; retryable: boolean } | undefined;
  // Saved only when the step moves on, so a redelivered step counts this generation once.
  record.turn_count += 1;
  if (stored?.role === 'assistant') message = stored;
  else {
    const outcome = await streamAssistant(turn, {
      requestId,
      messages: context.map((m) => m.message),
      tools: toolsFor(record),
    });
    message = outcome.message;
    failure = outcome.error;
    if (message.content.length > 0) await appendMessage(bus, record.session_id, entryId, message);
  }
  addUsage(record, message.usage);
  await turn.emit({ type: 'message_complete', message });

  if (message.stop_reason === 'aborted' || (await turn.abortRequested())) return finishAborted(turn);
  if (failure || message.stop_reason === 'error') {
    const text = failure?.message ?? message.error_message ?? 'the provider failed';
    return turn.finish(
      'failed',
      text,
      new HarnessError('provider_error', text, { retryable: failure?.retryable ?? false }).toEnvelope(),
    );
  }
  const calls = message.content.filter((block): block is FunctionCallBlock => block.type === 'function_call');
  if (calls.length === 0) {
    record.continue_pending = false;
    return turn.moveTo('steering_check');
  }
  record.batch = { assistant_entry_id: entryId, calls: calls.map((block) => prepare(turn, block)) };
  await turn.moveTo('function_execute');
}

function prepare(turn: Turn, block: FunctionCallBlock): BatchCall {
  const resolved = resolveCall(turn.record, block);
  const base = { function_call_id: block.id, tool: block.name };
  if ('error' in resolved)
    return {
      ...base,
      function_id: '',
      args: block.arguments,
      status: 'done',
      result: errorResult(`error invalid_call: ${resolved.error}`),
      duration_ms: 0,
    };
  return { ...base, function_id: resolved.function_id, args: resolved.payload, status: 'prepared' };
}
