import { z } from 'zod';
import { jsonValue } from './json.js';

/**
 * Decisions of `policy::check_permissions` (the harness worker's YAML rules behind the kernel
 * deny list). Callers treat anything but `allow` as "do not run it now".
 */

/** Rule ids the policy engine reserves for its own decisions. */
export const KERNEL_RULE_ID = 'kernel';
export const NO_POLICY_RULE_ID = 'no_policy';

/** The argument constraint that made a deny rule match (the rule's operand, never the argument's value). */
export const matchedConstraint = z.object({
  /** Dotted path into the call's arguments, e.g. `command` or `options.path`. */
  field: z.string(),
  operator: z.enum(['equals', 'matches']),
  /** The rule's operand: the JSON value for `equals`, the regex source for `matches`. */
  value: jsonValue,
});
export type MatchedConstraint = z.infer<typeof matchedConstraint>;

export const policyAllow = z.object({ decision: z.literal('allow'), rule_id: z.string() });
export const policyDeny = z.object({
  decision: z.literal('deny'),
  /** The rule's id; `kernel` for the kernel deny list, `no_policy` while no valid policy was ever loaded. */
  rule_id: z.string(),
  matched_constraint: matchedConstraint.optional(),
  /** Why, in words a model or an operator can act on. */
  reason: z.string().optional(),
});
export const policyNeedsApproval = z.object({ decision: z.literal('needs_approval') });

export const policyDecision = z.discriminatedUnion('decision', [policyAllow, policyDeny, policyNeedsApproval]);
export type PolicyDecision = z.infer<typeof policyDecision>;
export type PolicyAllow = z.infer<typeof policyAllow>;
export type PolicyDeny = z.infer<typeof policyDeny>;
