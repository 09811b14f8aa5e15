import { HarnessError, matchesAnyGlob } from '@iii-harness/runtime';
import { type JsonObject, KERNEL_RULE_ID, NO_POLICY_RULE_ID, type PolicyDecision } from '@iii-harness/types';
import type { GateAnswers } from './gate-answers.js';
import { waitOut } from './patience.js';
import type { TurnRecord } from './record.js';

export type DeniedBy = 'kernel' | 'permissions' | 'gate_unavailable' | 'run_functions' | 'hook' | 'user';

export type GateDecision = { kind: 'allow' } | { kind: 'deny'; denied_by: DeniedBy; reason: string } | { kind: 'hold' };

const unavailable = (what: string): GateDecision => ({
  kind: 'deny',
  denied_by: 'gate_unavailable',
  reason: `${what} could not be reached; calls are denied until it answers (fail closed)`,
});

/**
 * May the model run this call now? The run's own allow-list, then the policy (kernel deny list
 * and YAML rules, in the harness worker), then the session's approval mode. A policy that is not
 * there (the harness restarting) is waited for up to the timeout; anything that cannot be asked
 * within it denies the call: fail closed.
 *
 *  policy says        manual            auto     full
 *  kernel/no policy   deny              deny     deny
 *  deny               deny              deny     allow
 *  allow              allow             allow    allow
 *  needs_approval     hold (unless on   allow    allow
 *                     always-allow)
 */
export async function decide(
  record: Pick<TurnRecord, 'functions'>,
  functionId: string,
  args: JsonObject,
  timeoutMs: number,
  answers: GateAnswers,
): Promise<GateDecision> {
  if (!matchesAnyGlob(record.functions, functionId))
    return {
      kind: 'deny',
      denied_by: 'run_functions',
      reason: `${functionId} is not among the functions this run may call`,
    };
  let policy: PolicyDecision;
  try {
    policy = await waitOut('policy::check_permissions', () => answers.policy(functionId, args), {
      boundMs: timeoutMs,
    });
  } catch (error) {
    if (error instanceof HarnessError && error.code === 'invalid_payload')
      return { kind: 'deny', denied_by: 'permissions', reason: error.message };
    return unavailable('the permission policy');
  }
  if (policy.decision === 'deny' && (policy.rule_id === KERNEL_RULE_ID || policy.rule_id === NO_POLICY_RULE_ID)) {
    return {
      kind: 'deny',
      denied_by: policy.rule_id === KERNEL_RULE_ID ? 'kernel' : 'permissions',
      reason: policy.reason ?? `${functionId} is reserved to the harness and people; agents may not call it`,
    };
  }
  // An allowed call is allowed in every mode, so the gate is asked only when its mode matters.
  if (policy.decision === 'allow') return { kind: 'allow' };
  const mode = await answers.settings();
  if (!mode) return unavailable('the approval gate');
  if (mode.mode === 'full') return { kind: 'allow' };
  if (policy.decision === 'deny') {
    const constraint = policy.matched_constraint
      ? ` (argument ${policy.matched_constraint.field} ${policy.matched_constraint.operator} ${JSON.stringify(policy.matched_constraint.value)})`
      : '';
    return {
      kind: 'deny',
      denied_by: 'permissions',
      reason: policy.reason ?? `denied by permission rule ${policy.rule_id}${constraint}`,
    };
  }
  if (mode.mode === 'auto' || mode.always_allow.includes(functionId)) return { kind: 'allow' };
  return { kind: 'hold' };
}
