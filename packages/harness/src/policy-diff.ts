import type { CompiledPolicy, CompiledRule } from './policy-rules.js';

/** What a reload changed, rule by rule (a rule is its id, action, pattern and constraints). */
export interface PolicyChange {
  added: string[];
  removed: string[];
  /** Allow rules that are new (or changed). */
  addedAllows: string[];
  /** Deny rules that are gone (or changed). */
  removedDenies: string[];
  /** The rules both versions share are in another order (first match wins, so that can widen). */
  reordered: boolean;
  /** Whether an agent may now be allowed something it was not: a new allow, a lost deny, a new order. */
  widens: boolean;
}

/** One line per rule, as an operator would read it in a log: `allow shell::exec {command matches ^git }`. */
export function describeRule(rule: CompiledRule): string {
  const constraints = rule.constraints.map((c) => `${c.field} ${c.operator} ${JSON.stringify(c.value)}`);
  const args = constraints.length ? ` {${constraints.join(', ')}}` : '';
  return `${rule.rule_id}: ${rule.action} ${rule.function.pattern}${args}`;
}

/** The difference between the policy in force (null: none yet) and the one being loaded. */
export function policyChange(before: CompiledPolicy | null, after: CompiledPolicy): PolicyChange {
  const old = (before?.rules ?? []).map(describeRule);
  const next = after.rules.map(describeRule);
  const oldSet = new Set(old);
  const nextSet = new Set(next);
  const added = next.filter((rule) => !oldSet.has(rule));
  const removed = old.filter((rule) => !nextSet.has(rule));
  const actionOf = (policy: CompiledPolicy | null, line: string, lines: string[]) =>
    policy?.rules[lines.indexOf(line)]?.action;
  const addedAllows = added.filter((line) => actionOf(after, line, next) === 'allow');
  const removedDenies = removed.filter((line) => actionOf(before, line, old) === 'deny');
  const sharedOld = old.filter((rule) => nextSet.has(rule));
  const sharedNext = next.filter((rule) => oldSet.has(rule));
  const reordered = sharedOld.some((rule, i) => sharedNext[i] !== rule);
  // The first policy loaded is not compared: before it, every call was denied.
  const widens = before !== null && (addedAllows.length > 0 || removedDenies.length > 0 || reordered);
  return { added, removed, addedAllows, removedDenies, reordered, widens };
}
