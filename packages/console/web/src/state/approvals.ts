import type { AgentEvent, ApprovalHold, ApprovalMode, PolicyDecision } from '@iii-harness/types';
import { computed, signal } from '@preact/signals';
import { rpc } from '../lib/rpc';
import { announce, reportError, toast } from './app';

export type Hold = ApprovalHold;
export const holdKey = (h: { session_id: string; function_call_id: string }) => `${h.session_id}/${h.function_call_id}`;

/** Every call waiting for a person, in every session, oldest first. */
export const pending = signal<Hold[]>([]);
export const pendingCount = computed(() => pending.value.length);
/** Calls being decided right now (buttons disabled, no double submit). */
export const deciding = signal<ReadonlySet<string>>(new Set());

export interface Explanation {
  policy?: PolicyDecision;
  mode?: ApprovalMode;
  error?: string;
}
export const explanations = signal<ReadonlyMap<string, Explanation>>(new Map());

export async function loadPending(): Promise<void> {
  try {
    const { pending: holds } = await rpc.call('approval::list_pending', {});
    pending.value = holds;
  } catch (error) {
    reportError('Could not load pending approvals', error);
  }
}

export function applyApprovalEvent(event: AgentEvent): void {
  if (event.type === 'approval_requested') {
    if (pending.value.some((h) => holdKey(h) === holdKey(event))) return;
    pending.value = [
      ...pending.value,
      {
        session_id: event.session_id,
        turn_id: event.turn_id,
        function_call_id: event.function_call_id,
        function_id: event.function_id,
        args: event.args,
        requested_at: event.timestamp,
      },
    ];
    announce(`Approval needed: ${event.function_id}`);
  } else if (event.type === 'approval_resolved' || event.type === 'turn_completed') {
    const done = (h: Hold) =>
      h.session_id === event.session_id &&
      (event.type === 'turn_completed' ? h.turn_id === event.turn_id : h.function_call_id === event.function_call_id);
    if (pending.value.some(done)) pending.value = pending.value.filter((h) => !done(h));
  }
}

export interface Decision {
  decision: 'allow' | 'deny';
  always?: boolean;
  reason?: string;
}

export async function decide(hold: Hold, choice: Decision): Promise<boolean> {
  const key = holdKey(hold);
  if (deciding.value.has(key)) return false;
  deciding.value = new Set([...deciding.value, key]);
  try {
    const result = await rpc.call('approval::resolve', {
      session_id: hold.session_id,
      function_call_id: hold.function_call_id,
      decision: choice.decision,
      ...(choice.always ? { always: true } : {}),
      ...(choice.reason ? { reason: choice.reason } : {}),
    });
    pending.value = pending.value.filter((h) => holdKey(h) !== key);
    const verb = choice.decision === 'allow' ? (choice.always ? 'Always allowed' : 'Allowed') : 'Denied';
    toast(
      result.already_resolved
        ? `${hold.function_id} was already decided (${result.decision})`
        : `${verb} ${hold.function_id}`,
      'success',
    );
    return true;
  } catch (error) {
    reportError(`Could not decide ${hold.function_id}`, error);
    return false;
  } finally {
    const next = new Set(deciding.value);
    next.delete(key);
    deciding.value = next;
  }
}

/** Why the call was held: what the policy says about it now, and the session's mode. */
export async function explain(hold: Hold): Promise<void> {
  const key = holdKey(hold);
  if (explanations.value.has(key)) return;
  const set = (value: Explanation) => {
    explanations.value = new Map(explanations.value).set(key, value);
  };
  set({});
  const [policy, settings] = await Promise.allSettled([
    // No session_id: the rule that matters is the function's, and older harnesses refuse the field.
    rpc.call('policy::check_permissions', { function_id: hold.function_id, args: hold.args }),
    rpc.call('approval::get_settings', { session_id: hold.session_id }),
  ]);
  set({
    ...(policy.status === 'fulfilled' ? { policy: policy.value } : { error: 'the policy did not answer' }),
    ...(settings.status === 'fulfilled' ? { mode: settings.value.mode } : {}),
  });
}

/** One sentence: the rule that held the call. */
export function reasonText(hold: Hold, why: Explanation | undefined): string {
  if (!why) return 'Checking the policy…';
  if (why.error && !why.policy) return `Held for a person (${why.error}).`;
  const mode = why.mode ? ` The session's approval mode is ${why.mode}.` : '';
  const policy = why.policy;
  if (!policy) return `Held for a person.${mode}`;
  if (policy.decision === 'needs_approval')
    return `No policy rule allows ${hold.function_id}, so it needs approval.${mode}`;
  if (policy.decision === 'deny')
    return `Policy rule ${policy.rule_id} denies it${policy.reason ? ` (${policy.reason})` : ''}.${mode}`;
  return `Policy rule ${policy.rule_id} allows it now (it changed since the call was held).${mode}`;
}
