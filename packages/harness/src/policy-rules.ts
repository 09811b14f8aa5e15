import { formatZodIssues } from '@iii-harness/runtime';
import { type JsonValue, jsonValue, KERNEL_RULE_ID, NO_POLICY_RULE_ID } from '@iii-harness/types';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { type NameMatcher, nameMatcher } from './policy-names.js';

/**
 * The permission rules file: parsing and compiling. Pure (text in, compiled rules out), so every
 * form can be table-tested without an engine. Anything doubtful makes the whole file invalid —
 * a security policy that half-loads is worse than one that keeps its last good version.
 */

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

export interface Constraint {
  /** The dotted path as written. */
  field: string;
  path: string[];
  operator: 'equals' | 'matches';
  value: JsonValue;
  regex?: RegExp;
}

export interface CompiledRule {
  rule_id: string;
  action: 'allow' | 'deny';
  function: NameMatcher;
  constraints: Constraint[];
}

export interface CompiledPolicy {
  rules: CompiledRule[];
}

const MAX_POLICY_BYTES = 1_048_576;
const RESERVED_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

const pattern = z
  .string()
  .min(1)
  .max(512)
  .refine(
    (p) => !/[\p{White_Space}\p{Cc}\p{Cf}]/u.test(p),
    'a function pattern has no whitespace or invisible characters',
  )
  .refine((p) => !p.includes('!'), '"!" may only start a string rule (\'!id\' denies)');

const fieldPath = z
  .string()
  .max(256)
  .regex(/^[^.]+(\.[^.]+)*$/, 'a field is a dotted path like "command" or "options.path"')
  .refine(
    (f) => f.split('.').every((segment) => !RESERVED_SEGMENTS.has(segment)),
    'a field path may not use __proto__, prototype or constructor',
  );

const constraint = z.union(
  [z.object({ equals: jsonValue }).strict(), z.object({ matches: z.string().min(1).max(1024) }).strict()],
  {
    error: 'a constraint is {equals: <json>} or {matches: <regex>}',
  },
);

const ruleObject = z
  .object({
    rule_id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'a rule_id is letters, digits, "_", ".", ":" or "-"')
      .refine(
        (id) => id !== KERNEL_RULE_ID && id !== NO_POLICY_RULE_ID,
        'rule_id "kernel" and "no_policy" are reserved',
      )
      .optional(),
    function: pattern,
    action: z.enum(['allow', 'deny']),
    args: z.record(z.string(), constraint).optional(),
  })
  .strict();

const policyDocument = z.object({ version: z.literal(1).optional(), rules: z.array(z.unknown()).max(10_000) }).strict();
type RuleInput = string | z.infer<typeof ruleObject>;

/**
 * Whether a regex nests an unbounded quantifier inside a quantified group (`(a+)+`, `(\w*\s?)*`),
 * the shape that backtracks exponentially. A heuristic: it does not catch overlapping
 * alternations like `(a|aa)+`; the length cap on tested strings bounds those.
 */
export function hasNestedQuantifier(source: string): boolean {
  const groups: boolean[] = [false];
  let closedGroupQuantified = false;
  let afterGroup = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      i++;
      afterGroup = false;
      continue;
    }
    if (c === '[') {
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      afterGroup = false;
      continue;
    }
    if (c === '(') {
      groups.push(false);
      afterGroup = false;
      continue;
    }
    if (c === ')') {
      closedGroupQuantified = groups.length > 1 ? groups.pop()! : false;
      groups[groups.length - 1] ||= closedGroupQuantified;
      afterGroup = true;
      continue;
    }
    const repeats =
      c === '*' || c === '+' || (c === '{' && /^\{(\d*,\d*|\d*[2-9]\d*|\d{2,})\}/.test(source.slice(i, i + 24)));
    if (repeats) {
      if (afterGroup && closedGroupQuantified) return true;
      groups[groups.length - 1] = true;
    }
    afterGroup = false;
  }
  return false;
}

function compileConstraint(field: string, spec: z.infer<typeof constraint>, where: string): Constraint {
  const checked = fieldPath.safeParse(field);
  if (!checked.success)
    throw new PolicyError(`${where}.args: "${field}": ${checked.error.issues.map((i) => i.message).join('; ')}`);
  const path = field.split('.');
  if ('equals' in spec) return { field, path, operator: 'equals', value: spec.equals };
  let regex: RegExp;
  try {
    regex = new RegExp(spec.matches);
  } catch (error) {
    throw new PolicyError(`${where}.args.${field}.matches: invalid regex: ${(error as Error).message}`);
  }
  if (hasNestedQuantifier(spec.matches))
    throw new PolicyError(
      `${where}.args.${field}.matches: nested quantifiers like (a+)+ can backtrack catastrophically; rewrite the regex`,
    );
  return { field, path, operator: 'matches', value: spec.matches, regex };
}

/** A rule as written, checked on its own so errors name the rule and the key. */
function checkRule(input: unknown, index: number): RuleInput {
  if (typeof input === 'string') return input;
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new PolicyError(
      `rules.${index}: a rule is a function id or glob (allow), '!id' (deny), or {function, action, args?}`,
    );
  const parsed = ruleObject.safeParse(input);
  if (!parsed.success) throw new PolicyError(formatZodIssues(parsed.error).replace(/(^|; )/g, `$1rules.${index}.`));
  return parsed.data;
}

function compileRule(input: RuleInput, index: number): CompiledRule {
  const where = `rules.${index}`;
  if (typeof input === 'string') {
    const denies = input.startsWith('!');
    const parsed = pattern.safeParse(denies ? input.slice(1) : input);
    if (!parsed.success)
      throw new PolicyError(`${where}: "${input}": ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    return { rule_id: input, action: denies ? 'deny' : 'allow', function: nameMatcher(parsed.data), constraints: [] };
  }
  const constraints = Object.entries(input.args ?? {}).map(([field, spec]) => compileConstraint(field, spec, where));
  return {
    rule_id: input.rule_id ?? `rule-${index + 1}`,
    action: input.action,
    function: nameMatcher(input.function),
    constraints,
  };
}

/** Compile a parsed document (`{version?: 1, rules: [...]}`); throws PolicyError naming the bad rule. */
export function compilePolicy(document: unknown): CompiledPolicy {
  const parsed = policyDocument.safeParse(document);
  if (!parsed.success) throw new PolicyError(formatZodIssues(parsed.error));
  const inputs = parsed.data.rules.map(checkRule);
  const rules = inputs.map(compileRule);
  const seen = new Map<string, boolean>();
  inputs.forEach((input, index) => {
    const id = rules[index]!.rule_id;
    const isString = typeof input === 'string';
    // The same string twice is the same rule; any other repeated id would make audits ambiguous.
    if (seen.has(id) && !(isString && seen.get(id)))
      throw new PolicyError(`rules.${index}: rule_id "${id}" is used twice`);
    seen.set(id, isString);
  });
  return { rules };
}

/** Parse and compile the YAML text of a rules file. */
export function parsePolicy(text: string): CompiledPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES)
    throw new PolicyError(`the rules file is larger than ${MAX_POLICY_BYTES} bytes`);
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const problems = [...document.errors, ...document.warnings].map((issue) => {
    const hint = /tag/i.test(issue.message)
      ? " (quote deny rules: '!state::set', since a bare ! starts a YAML tag)"
      : '';
    return `${issue.message.split('\n')[0]}${hint}`;
  });
  if (problems.length) throw new PolicyError(`invalid YAML: ${problems.join('; ')}`);
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new PolicyError(`invalid YAML: ${(error as Error).message}`);
  }
  return compilePolicy(value);
}
