import { type JsonValue, NO_POLICY_RULE_ID, type PolicyDecision } from '@iii-harness/types';
import { type KernelSpec, kernelDecision } from './kernel-deny.js';
import { matchesName, skeleton } from './policy-names.js';
import type { CompiledPolicy, CompiledRule, Constraint } from './policy-rules.js';

/**
 * Deciding one call: the kernel deny list, then fail closed without a policy, then the rules top
 * to bottom (first match wins), else `needs_approval`.
 *
 * Constraints lean towards denying whenever a value cannot be checked: a constraint that cannot be
 * evaluated — `matches` on a value that is not a string, or on a string longer than
 * `maxMatchLength` — counts as matched in a deny rule and as not matched in an allow rule. A
 * constraint on a field the arguments do not have does not match, in either kind of rule.
 */

export interface EvaluateOptions {
  kernel: KernelSpec;
  maxMatchLength: number;
}

const NO_POLICY_REASON = 'no valid permissions policy has been loaded; every call is denied until one is';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

/** The value at a dotted path, following own properties only (never the prototype chain). */
export function lookupField(
  args: unknown,
  path: readonly string[],
): { found: true; value: unknown } | { found: false } {
  let node: unknown = args;
  for (const segment of path) {
    if (!isRecord(node)) return { found: false };
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(segment) || Number(segment) >= node.length) return { found: false };
      node = node[Number(segment)];
    } else {
      if (!Object.hasOwn(node, segment)) return { found: false };
      node = node[segment];
    }
  }
  return { found: true, value: node };
}

/** JSON equality: same type, same primitives, same array items in order, same own keys. */
export function jsonEqual(a: unknown, b: JsonValue): boolean {
  if (b === null || typeof b !== 'object') return a === b;
  if (Array.isArray(b)) return Array.isArray(a) && a.length === b.length && b.every((item, i) => jsonEqual(a[i], item));
  if (!isRecord(a) || Array.isArray(a)) return false;
  const keys = Object.keys(b);
  return (
    Object.keys(a).length === keys.length && keys.every((key) => Object.hasOwn(a, key) && jsonEqual(a[key], b[key]!))
  );
}

function constraintHolds(
  constraint: Constraint,
  args: unknown,
  action: CompiledRule['action'],
  maxMatchLength: number,
): boolean {
  const field = lookupField(args, constraint.path);
  if (!field.found) return false;
  if (constraint.operator === 'equals') return jsonEqual(field.value, constraint.value);
  const value = field.value;
  if (typeof value !== 'string' || value.length > maxMatchLength) return action === 'deny';
  return constraint.regex!.test(value);
}

function ruleMatches(
  rule: CompiledRule,
  functionId: string,
  folded: string,
  args: unknown,
  maxMatchLength: number,
): boolean {
  // Deny rules also catch look-alikes of their ids; allow rules match the exact id only.
  if (!matchesName(rule.function, functionId, rule.action === 'deny', folded)) return false;
  return rule.constraints.every((constraint) => constraintHolds(constraint, args, rule.action, maxMatchLength));
}

/** The rules alone (no kernel): first match wins, no match needs approval. */
export function evaluateRules(
  policy: CompiledPolicy,
  functionId: string,
  args: unknown,
  maxMatchLength: number,
): PolicyDecision {
  const folded = skeleton(functionId);
  for (const rule of policy.rules) {
    if (!ruleMatches(rule, functionId, folded, args, maxMatchLength)) continue;
    if (rule.action === 'allow') return { decision: 'allow', rule_id: rule.rule_id };
    const first = rule.constraints[0];
    return {
      decision: 'deny',
      rule_id: rule.rule_id,
      ...(first ? { matched_constraint: { field: first.field, operator: first.operator, value: first.value } } : {}),
      reason: `denied by permission rule ${rule.rule_id}`,
    };
  }
  return { decision: 'needs_approval' };
}

/**
 * The whole decision for one call; `policy` is null while no valid rules file was ever loaded.
 * `callerSession` is the asking agent's session (see the kernel's own-session functions).
 */
export function checkPermission(
  policy: CompiledPolicy | null,
  functionId: string,
  args: unknown,
  options: EvaluateOptions,
  callerSession?: string,
): PolicyDecision {
  const kernel = kernelDecision(options.kernel, functionId, args, callerSession);
  if (kernel) return kernel;
  if (!policy) return { decision: 'deny', rule_id: NO_POLICY_RULE_ID, reason: NO_POLICY_REASON };
  return evaluateRules(policy, functionId, args, options.maxMatchLength);
}
