import type { FunctionCallBlock, FunctionResultMessage, JsonObject } from '@iii-harness/types';
import { useState } from 'preact/hooks';
import { pending } from '../state/approvals';
import type { LiveCall } from '../state/chat';
import { ApprovalActions, HeldBecause } from './approval-actions';
import { duration } from './format';
import { JsonView } from './json';

/** The function an `agent_trigger` call names, and its payload; other tools as they are. */
export function unwrapCall(call: Pick<FunctionCallBlock, 'name' | 'arguments'>): { functionId: string; args: unknown } {
  const args = call.arguments as JsonObject;
  if (call.name === 'agent_trigger' && typeof args.function_id === 'string')
    return { functionId: args.function_id, args: args.payload ?? {} };
  return { functionId: call.name.replace('__', '::'), args };
}

const resultText = (result: FunctionResultMessage) =>
  result.content.map((b) => (b.type === 'text' ? b.text : `[${b.mime_type} image]`)).join('\n');

/** A result that is JSON reads better pretty-printed. */
function readable(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const STATUS_TEXT: Record<string, string> = {
  streaming: 'preparing',
  running: 'running',
  held: 'waiting for approval',
  approved: 'approved',
  done: 'done',
  error: 'error',
  denied: 'denied',
  aborted: 'aborted',
};

/**
 * A function call as a card: the function, its arguments, its status and its result. A held
 * call carries the approval buttons right here, as well as in the approvals panel.
 */
export function FunctionCard({
  sessionId,
  call,
  result,
  live,
}: {
  sessionId: string;
  call: FunctionCallBlock;
  result?: FunctionResultMessage | undefined;
  live?: LiveCall | undefined;
}) {
  const { functionId, args } = unwrapCall(call);
  const hold = pending.value.find((h) => h.session_id === sessionId && h.function_call_id === call.id);
  const [denying, setDenying] = useState(false);
  const status = hold
    ? 'held'
    : result
      ? result.is_error
        ? live?.status === 'denied' || resultText(result).startsWith('denied')
          ? 'denied'
          : 'error'
        : 'done'
      : (live?.status ?? 'pending');
  return (
    <section
      class={`fn-card fn-${status}`}
      aria-label={`Function call ${functionId}: ${STATUS_TEXT[status] ?? status}`}
    >
      <header class="fn-head">
        <span class={`fn-dot fn-dot-${status}`} aria-hidden="true" />
        <code class="fn-id">{functionId}</code>
        <span class="fn-status">{STATUS_TEXT[status] ?? 'waiting'}</span>
        {live?.duration_ms !== undefined && <span class="muted small">{duration(live.duration_ms)}</span>}
      </header>
      <JsonView value={args} label="Arguments" />
      {hold && (
        <div class="fn-hold">
          <HeldBecause hold={hold} />
          <ApprovalActions hold={hold} denying={denying} setDenying={setDenying} />
        </div>
      )}
      {!hold && live?.reason && <p class="small muted">Reason: {live.reason}</p>}
      {result ? (
        <JsonView value={readable(resultText(result))} label={result.is_error ? 'Error' : 'Result'} />
      ) : (
        live?.result !== undefined && <JsonView value={live.result} label="Result" />
      )}
    </section>
  );
}
