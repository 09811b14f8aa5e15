import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { globToRegExp } from '@iii-harness/runtime';
import type { PolicyDecision } from '@iii-harness/types';
import {
  type CompiledPolicy,
  checkPermission,
  compileKernel,
  hasNestedQuantifier,
  PolicyError,
  parsePolicy,
  skeleton,
} from '../src/index.js';

const kernel = compileKernel(['harness_providers', 'harness_ui_subscriptions']);
const options = { kernel, maxMatchLength: 64 };
const decide = (policy: CompiledPolicy | null, functionId: string, args?: unknown): PolicyDecision =>
  checkPermission(policy, functionId, args, options);
const policyOf = (...rules: string[]) =>
  parsePolicy(`version: 1\nrules:\n${rules.map((r) => `  - ${r}`).join('\n')}\n`);

describe('names', () => {
  it.each([
    ['shell::*', 'shell::exec', true],
    ['shell::*', 'shell::fs::read', true],
    ['shell::*', 'shell::', true],
    ['shell::*', 'shell', false],
    ['shell::*', 'xshell::exec', false],
    ['*::list', 'models::list', true],
    ['*::list', 'a::b::list', true],
    ['*::list', 'models::list_all', false],
    ['*', 'anything::at::all', true],
    ['state::get', 'state::get', true],
    ['state::get', 'state::getx', false],
    ['state::get', 'State::get', false],
    ['a.b::c', 'aXb::c', false],
    ['fs::(read)', 'fs::(read)', true],
    ['web::fetch*', 'web::fetch\nnewline', true],
  ])('glob %s on %j → %s', (pattern, name, expected) => {
    expect(globToRegExp(pattern).test(name)).toBe(expected);
  });

  it.each([
    ['Approval::Resolve', 'approval::resolve'],
    [' approval::resolve\t', 'approval::resolve'],
    ['approval\u200b::resolve\u200d', 'approval::resolve'],
    ['ａｐｐｒｏｖａｌ：：ｒｅｓｏｌｖｅ', 'approval::resolve'],
    ['аррrоvаl::rеsоlvе', 'approval::resolve'], // Cyrillic а р о е
    ['ΑΡΡROVAL::RESOLVE', 'approval::resolve'], // Greek capitals
    ['appróval::resolvé', 'approval::resolve'],
    ['se\u00adssion_tree', 'session_tree'],
    ['İnbox', 'inbox'],
  ])('skeleton(%j) = %j', (name, expected) => {
    expect(skeleton(name)).toBe(expected);
  });
});

describe('rule forms, globs and order', () => {
  const policy = policyOf(
    "'!shell::exec'",
    'shell::*',
    "'*::list'",
    'notes::get',
    "'!secrets::*'",
    '{ rule_id: named-allow, function: web::fetch, action: allow }',
    '{ function: web::*, action: deny }',
    'secrets::read', // unreachable: the deny glob above wins
  );
  it.each<[string, PolicyDecision]>([
    ['notes::get', { decision: 'allow', rule_id: 'notes::get' }],
    ['shell::exec', { decision: 'deny', rule_id: '!shell::exec', reason: 'denied by permission rule !shell::exec' }],
    ['shell::fs::read', { decision: 'allow', rule_id: 'shell::*' }],
    ['models::list', { decision: 'allow', rule_id: '*::list' }],
    ['a::b::list', { decision: 'allow', rule_id: '*::list' }],
    ['secrets::read', { decision: 'deny', rule_id: '!secrets::*', reason: 'denied by permission rule !secrets::*' }],
    ['web::fetch', { decision: 'allow', rule_id: 'named-allow' }],
    ['web::search', { decision: 'deny', rule_id: 'rule-7', reason: 'denied by permission rule rule-7' }],
    ['notes::keys', { decision: 'needs_approval' }],
    ['Notes::get', { decision: 'needs_approval' }], // allow rules match the exact id only
    ['SHELL::EXEC', { decision: 'deny', rule_id: '!shell::exec', reason: 'denied by permission rule !shell::exec' }], // deny rules catch look-alikes
    [
      'shell::exec\u200b',
      { decision: 'deny', rule_id: '!shell::exec', reason: 'denied by permission rule !shell::exec' },
    ],
    ['ѕhell::exec', { decision: 'deny', rule_id: '!shell::exec', reason: 'denied by permission rule !shell::exec' }],
  ])('%j → %j', (functionId, expected) => {
    expect(decide(policy, functionId, {})).toEqual(expected);
  });

  it('first match wins, whichever way round', () => {
    expect(decide(policyOf('shell::*', "'!shell::exec'"), 'shell::exec')).toEqual({
      decision: 'allow',
      rule_id: 'shell::*',
    });
    expect(decide(policyOf("'!shell::exec'", 'shell::*'), 'shell::exec')).toMatchObject({
      decision: 'deny',
      rule_id: '!shell::exec',
    });
  });

  it('an empty rule list needs approval for everything; a catch-all "*" allows everything not kernel-denied', () => {
    expect(decide(parsePolicy('rules: []'), 'notes::get')).toEqual({ decision: 'needs_approval' });
    expect(decide(policyOf("'*'"), 'anything::else')).toEqual({ decision: 'allow', rule_id: '*' });
    expect(decide(policyOf("'*'"), 'approval::resolve')).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
  });

  it('fails closed without a policy, and the kernel still answers first', () => {
    expect(decide(null, 'notes::get')).toMatchObject({ decision: 'deny', rule_id: 'no_policy' });
    expect(decide(null, 'run::start')).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
  });
});

describe('argument constraints', () => {
  const policy = policyOf(
    "{ rule_id: no-rm, function: shell::exec, action: deny, args: { command: { matches: '^rm\\s' } } }",
    "{ rule_id: git-read, function: shell::exec, action: allow, args: { command: { matches: '^git (status|log|diff)( |$)' } } }",
    '{ rule_id: tmp-only, function: fs::write, action: allow, args: { options.root: { equals: /tmp }, mode: { equals: 420 } } }',
    '{ rule_id: exact-list, function: fs::write, action: deny, args: { tags: { equals: [a, { b: null }] } } }',
    "{ rule_id: first-item, function: fs::read, action: allow, args: { paths.0: { matches: '^/srv/' } } }",
    "{ rule_id: deny-etc, function: fs::read, action: deny, args: { path: { matches: '^/etc' } } }",
  );
  it.each<[string, unknown, PolicyDecision]>([
    [
      'shell::exec',
      { command: 'rm -rf /' },
      {
        decision: 'deny',
        rule_id: 'no-rm',
        matched_constraint: { field: 'command', operator: 'matches', value: '^rm\\s' },
        reason: 'denied by permission rule no-rm',
      },
    ],
    ['shell::exec', { command: 'git status' }, { decision: 'allow', rule_id: 'git-read' }],
    ['shell::exec', { command: 'git push' }, { decision: 'needs_approval' }],
    ['shell::exec', {}, { decision: 'needs_approval' }], // a constraint on a missing field does not match
    ['shell::exec', 'git status', { decision: 'needs_approval' }], // non-object args: every field is missing
    // `matches` cannot check a non-string: it counts in a deny rule, never in an allow rule.
    [
      'shell::exec',
      { command: ['rm', '-rf', '/'] },
      {
        decision: 'deny',
        rule_id: 'no-rm',
        matched_constraint: { field: 'command', operator: 'matches', value: '^rm\\s' },
        reason: 'denied by permission rule no-rm',
      },
    ],
    // Strings over max_match_length are not tested: same rule.
    [
      'shell::exec',
      { command: `git status ${'x'.repeat(100)}` },
      {
        decision: 'deny',
        rule_id: 'no-rm',
        matched_constraint: { field: 'command', operator: 'matches', value: '^rm\\s' },
        reason: 'denied by permission rule no-rm',
      },
    ],
    ['fs::write', { options: { root: '/tmp' }, mode: 420 }, { decision: 'allow', rule_id: 'tmp-only' }],
    ['fs::write', { options: { root: '/tmp' }, mode: '420' }, { decision: 'needs_approval' }], // equals is type-strict
    ['fs::write', { options: { root: '/tmp' } }, { decision: 'needs_approval' }], // constraints are ANDed
    ['fs::write', { 'options.root': '/tmp', mode: 420 }, { decision: 'needs_approval' }], // dotted = nested
    [
      'fs::write',
      { tags: ['a', { b: null }] },
      {
        decision: 'deny',
        rule_id: 'exact-list',
        matched_constraint: { field: 'tags', operator: 'equals', value: ['a', { b: null }] },
        reason: 'denied by permission rule exact-list',
      },
    ],
    ['fs::write', { tags: ['a', { b: null, c: 1 }] }, { decision: 'needs_approval' }],
    ['fs::read', { paths: ['/srv/x', '/etc/passwd'] }, { decision: 'allow', rule_id: 'first-item' }],
    [
      'fs::read',
      { path: '/etc/passwd' },
      {
        decision: 'deny',
        rule_id: 'deny-etc',
        matched_constraint: { field: 'path', operator: 'matches', value: '^/etc' },
        reason: 'denied by permission rule deny-etc',
      },
    ],
    [
      'fs::read',
      { path: 42 },
      {
        decision: 'deny',
        rule_id: 'deny-etc',
        matched_constraint: { field: 'path', operator: 'matches', value: '^/etc' },
        reason: 'denied by permission rule deny-etc',
      },
    ],
  ])('%s %j → %j', (functionId, args, expected) => {
    expect(decide(policy, functionId, args)).toEqual(expected);
  });

  it('never reads through the prototype chain', () => {
    const p = policyOf(
      '{ rule_id: admin, function: x::y, action: allow, args: { admin: { equals: true } } }',
      '{ rule_id: ctor, function: x::z, action: allow, args: { toString: { matches: . } } }',
    );
    expect(decide(p, 'x::y', JSON.parse('{"__proto__": {"admin": true}}'))).toEqual({ decision: 'needs_approval' });
    expect(decide(p, 'x::y', Object.create({ admin: true }))).toEqual({ decision: 'needs_approval' });
    expect(decide(p, 'x::z', {})).toEqual({ decision: 'needs_approval' });
  });
});

describe('invalid policies', () => {
  it.each([
    ['not yaml: [', /invalid YAML/],
    ['rules:\n  - !state::set\n', /quote deny rules/],
    ['{}', /rules/],
    ['rules: {}', /rules/],
    ['version: 2\nrules: []', /version/],
    ['rules: []\nextra: 1', /extra/],
    ['rules:\n  - 42', /rules\.0: a rule is/],
    ["rules:\n  - '!'", /rules\.0/],
    ["rules:\n  - 'state get'", /whitespace/],
    ["rules:\n  - 'a::!b'", /"!" may only start/],
    ['rules:\n  - { function: x, action: maybe }', /rules\.0\.action/],
    ['rules:\n  - { function: x, action: allow, extra: 1 }', /rules\.0/],
    ['rules:\n  - { function: x, action: allow, args: { c: { equal: 1 } } }', /constraint is/],
    ['rules:\n  - { function: x, action: allow, args: { c: { equals: 1, matches: a } } }', /constraint is/],
    ["rules:\n  - { function: x, action: allow, args: { c: { matches: '(' } } }", /invalid regex/],
    ["rules:\n  - { function: x, action: allow, args: { c: { matches: '^(a+)+$' } } }", /nested quantifiers/],
    ['rules:\n  - { function: x, action: allow, args: { __proto__.x: { equals: 1 } } }', /__proto__/],
    ['rules:\n  - { function: x, action: allow, args: { a..b: { equals: 1 } } }', /dotted path/],
    ['rules:\n  - { rule_id: kernel, function: x, action: allow }', /reserved/],
    [
      'rules:\n  - { rule_id: r, function: x, action: allow }\n  - { rule_id: r, function: y, action: deny }',
      /used twice/,
    ],
    ['rules:\n  - { function: x, action: allow }\n  - { rule_id: rule-1, function: y, action: deny }', /used twice/],
    ['rules: []\nrules: []', /invalid YAML/],
  ])('%j is rejected (%s)', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(PolicyError);
    expect(() => parsePolicy(text)).toThrow(message);
  });

  it('accepts the same string rule twice (same meaning)', () => {
    expect(parsePolicy("rules: [state::get, state::get, '!x', '!x']").rules).toHaveLength(4);
  });

  it.each([
    ['^(a+)+$', true],
    ['(\\w+\\s?)*', true],
    ['((ab)*c)+', true],
    ['(a{2,})+', true],
    ['^rm\\s+-rf', false],
    ['^git (status|log)( |$)', false],
    ['(ab)+', false],
    ['[(a+)]+', false],
    ['\\(a+\\)+', false],
    ['(a+)?', false],
  ])('nested quantifier in %s: %s', (source, expected) => {
    expect(hasNestedQuantifier(source)).toBe(expected);
  });
});

describe('the shipped example file', () => {
  const example = parsePolicy(readFileSync(join(__dirname, '..', 'iii-permissions.example.yaml'), 'utf8'));
  const decideAs = (session: string | undefined, functionId: string, args: unknown) =>
    checkPermission(example, functionId, args, options, session);
  it.each<[string, unknown, Partial<PolicyDecision>]>([
    ['shell::exec', { command: 'sudo rm -rf /' }, { decision: 'deny', rule_id: 'no-rm-rf' }],
    ['shell::exec', { command: 'git log --oneline' }, { decision: 'allow', rule_id: 'git-read-only' }],
    ['shell::exec', { command: 'git status' }, { decision: 'allow', rule_id: 'git-read-only' }],
    ['shell::exec', { command: 'git log; curl evil' }, { decision: 'deny', rule_id: '!shell::*' }],
    ['shell::exec', { command: 'git log\ncurl evil' }, { decision: 'deny', rule_id: '!shell::*' }],
    ['shell::exec', { command: 'git log > /etc/cron.d/x' }, { decision: 'deny', rule_id: '!shell::*' }],
    ['shell::exec', { command: 'git diff --output=/tmp/x' }, { decision: 'deny', rule_id: '!shell::*' }],
    ['shell::exec', { command: 'git diff --ext-diff' }, { decision: 'deny', rule_id: '!shell::*' }],
    ['shell::fs::read', { path: '/workspace/src/a.ts' }, { decision: 'allow', rule_id: 'workspace-reads' }],
    ['shell::fs::read', { path: '/workspace/../etc/passwd' }, { decision: 'deny', rule_id: '!shell::*' }],
    ['shell::fs::read', { path: '/workspace/a/..' }, { decision: 'deny', rule_id: '!shell::*' }],
    ['shell::fs::read', { path: '/workspace/a..b/c' }, { decision: 'allow', rule_id: 'workspace-reads' }],
    ['models::list', {}, { decision: 'allow', rule_id: 'models::list' }],
    ['engine::functions::list', {}, { decision: 'allow', rule_id: 'engine::functions::list' }],
    ['web::fetch', { url: 'https://api.internal.example.com/x' }, { decision: 'deny', rule_id: 'no-internal-host' }],
    ['web::fetch', { url: 'https://example.org/' }, { decision: 'needs_approval' }],
    ['tool::list', {}, { decision: 'needs_approval' }],
    ['session::append', {}, { decision: 'deny', rule_id: 'kernel' }],
    ['approval::resolve', {}, { decision: 'deny', rule_id: 'kernel' }],
  ])('%s %j → %j', (functionId, args, expected) => {
    expect(decideAs('s1', functionId, args)).toMatchObject(expected);
  });

  it("lets an agent read its own session, and never another's", () => {
    for (const id of ['session::get', 'session::messages', 'session::tree', 'harness::status']) {
      expect(decideAs('s1', id, { session_id: 's1' })).toEqual({ decision: 'allow', rule_id: id });
      expect(decideAs('s1', id, { session_id: 's2' })).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    }
    expect(decideAs('s1', 'session::list', {})).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
  });

  it("asks a person before any read of engine state or streams, and denies the harness's own", () => {
    for (const [id, args] of [
      ['state::get', { scope: 'tool_notes', key: 'k' }],
      ['state::list', { scope: 'tool_notes' }],
      ['stream::list', { stream_name: 'tool_feed', group_id: 's2' }],
    ] as const)
      expect(decideAs('s1', id, args)).toEqual({ decision: 'needs_approval' });
    for (const [id, args] of [
      ['state::list', { scope: 'session_entries:s2' }],
      ['state::get', { scope: 'turn_state', key: 's2' }],
      ['stream::list', { stream_name: 'agent::events', group_id: 's2' }],
    ] as const)
      expect(decideAs('s1', id, args)).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
  });
});
