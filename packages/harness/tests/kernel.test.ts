import { type Contract, contracts } from '@iii-harness/types';
import {
  AGENT_SAFE,
  AGENT_TOOL_GROUPS,
  checkPermission,
  compileKernel,
  PROTECTED_STORAGE,
  parsePolicy,
  RESERVED_NAMESPACES,
} from '../src/index.js';

/**
 * The kernel deny list against hostile input: every function of the harness and the engine that
 * is not on the agent-safe list, spelt every way an agent might try, with every kind of argument,
 * under a policy that allows everything it can.
 */
const kernel = compileKernel(['harness_providers', 'harness_ui_subscriptions']);
const options = { kernel, maxMatchLength: 4096 };
const safeIds = new Set(AGENT_SAFE.map((entry) => entry.id));

const contractsOf = (group: object): Contract[] =>
  Object.values(group).filter(
    (entry): entry is Contract => typeof entry === 'object' && entry !== null && 'id' in entry,
  );
/** The harness's own functions: every catalogue group but the tools made for agents. */
const catalogue: Contract[] = Object.values(contracts)
  .filter((group) => !AGENT_TOOL_GROUPS.includes(group))
  .flatMap(contractsOf);
const agentTools: Contract[] = AGENT_TOOL_GROUPS.flatMap(contractsOf);

/** Functions agents must never reach, beyond the catalogue (engine builtins, families, future ones). */
const notInCatalogue = [
  // Issue 10, finding 6: forged events to other sessions' operators; re-running dead-lettered jobs.
  'harness::ui::fanout',
  'iii::queue::redrive',
  'iii::queue::redrive_message',
  'iii::queue::discard_message',
  'engine::queue::enqueue',
  'engine::queue::dlq_messages',
  'engine::queue::list_topics',
  // The engine's topology: hosts, OS and versions of every worker; who subscribes to which hook.
  'engine::workers::list',
  'engine::workers::info',
  'engine::triggers::list',
  'engine::registered-triggers::list',
  'engine::register_trigger',
  'engine::unregister_trigger',
  'engine::workers::register',
  'engine::channels::create',
  'ui::session::event::c1',
  'provider::anthropic::stream',
  'provider::lmstudio::load_model',
  'stream::set(agent::events)',
  'stream::list_all',
  'stream::list_groups',
  'state::list_groups',
  'publish',
  'iii::durable::publish',
  'queue::redrive',
  'run::start',
  'run::abort',
  'turn::get_state',
  'turn::function_awaiting_approval',
  'budget::reserve',
  'budget::get',
  'compaction::compact_now',
  // Functions that do not exist yet fall under the rule too.
  'harness::some_future_function',
  'session::purge_everything',
  'approval::approve_all',
  'engine::anything_new',
];
const deniedIds = [...catalogue.map((c) => c.id).filter((id) => !safeIds.has(id)), ...notInCatalogue];

const LATIN_TO_CYRILLIC: Record<string, string> = {
  a: 'а',
  c: 'с',
  e: 'е',
  o: 'о',
  p: 'р',
  x: 'х',
  y: 'у',
  i: 'і',
  s: 'ѕ',
};
const fullwidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/** Spellings of an id: the exact one and look-alikes the engine would not route, but might one day. */
function spellings(id: string): string[] {
  return [
    id,
    id.toUpperCase(),
    id.replace(/(^|::)([a-z])/g, (_m, sep: string, c: string) => `${sep}${c.toUpperCase()}`),
    ` ${id}`,
    `${id} `,
    `${id}\t`,
    `\n${id}`,
    `${id[0]}\u200b${id.slice(1)}`,
    `\u202e${id}`,
    `${id}\ufeff`,
    `${id[0]}\u00ad${id.slice(1)}`,
    id.replaceAll('::', '\u00a0::'),
    id.replaceAll('::', '：：'),
    fullwidth(id),
    id.replace(/[aceopxyis]/g, (c) => LATIN_TO_CYRILLIC[c]!),
    id.replace(/[aeo]/, (c) => `${c}\u0301`),
  ];
}

const hostileArgs: Array<[string, unknown]> = [
  ['no args', undefined],
  ['null', null],
  ['a number', 42],
  ['a string', 'allow me'],
  ['a boolean', true],
  ['an array', [{ scope: 'mine' }]],
  ['an empty object', {}],
  ['its own session', { session_id: 's1', scope: 'mine', stream_name: 'mine' }],
  [
    'prototype-pollution keys',
    JSON.parse(
      '{"__proto__": {"decision": "allow", "scope": "mine"}, "constructor": {"prototype": {"allowed": true}}}',
    ),
  ],
  ['a null-prototype object', Object.assign(Object.create(null), { scope: 'mine' })],
  ['huge args', { scope: 'mine', blob: 'x'.repeat(2_000_000), list: Array.from({ length: 10_000 }, (_, i) => i) }],
  ['deep args', JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`)],
  ['args naming another function', { function_id: 'state::get', rule_id: 'allow-all' }],
];

/** A policy that allows everything a rule can: a catch-all, every id exactly, and constrained allows. */
const permissive = parsePolicy(
  [
    'rules:',
    `  - ${JSON.stringify('*')}`,
    ...[...deniedIds, ...safeIds].map((id) => `  - ${JSON.stringify(id)}`),
    '  - { rule_id: any-args, function: "*", action: allow, args: {} }',
  ].join('\n'),
);
const decide = (id: string, args?: unknown, session?: string) =>
  checkPermission(permissive, id, args, options, session);
const ALLOWED = { decision: 'allow', rule_id: '*' };

describe('kernel deny list: the harness and the engine are closed to agents unless listed as safe', () => {
  it('reserves the namespace of every contract in the catalogue, and the engine', () => {
    for (const c of catalogue) expect(RESERVED_NAMESPACES).toContain(c.id.split('::')[0]);
    for (const ns of ['engine', 'iii', 'queue', 'state', 'stream', 'provider', 'ui', 'run', 'turn'])
      expect(RESERVED_NAMESPACES).toContain(ns);
  });

  it.each(deniedIds)('%s is denied however spelt and whatever the arguments', (id) => {
    for (const spelling of spellings(id)) {
      for (const [label, args] of hostileArgs) {
        const decision = decide(spelling, args, 's1');
        if (decision.decision !== 'deny' || decision.rule_id !== 'kernel')
          throw new Error(`${JSON.stringify(spelling)} with ${label} → ${JSON.stringify(decision)}`);
      }
      // Also with no policy loaded: the kernel answers, not the fail-closed default.
      expect(checkPermission(null, spelling, {}, options)).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    }
  });

  it('closes compaction and budgets to agents: they spend summariser tokens and change what the model sees', () => {
    const compaction = contractsOf(contracts.compaction).map((c) => c.id);
    expect(compaction).toEqual(
      expect.arrayContaining(['compaction::compact_session', 'compaction::prune_tool_outputs']),
    );
    // Budget mutations are denied by namespace before (and after) their contracts exist.
    const budget = ['budget::set_limit', 'budget::reset', 'budget::reserve', 'budget::commit', 'budget::release'];
    for (const id of [...compaction, ...budget]) {
      expect(decide(id, { session_id: 's1' }, 's1')).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
      expect(decide(id.replace('::', '::x::'), {}, 's1')).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    }
    expect(RESERVED_NAMESPACES).toEqual(expect.arrayContaining(['compaction', 'budget']));
  });

  it('says why, in words an agent can act on', () => {
    expect(decide('iii::queue::redrive', { queue: 'turn-step' })).toEqual({
      decision: 'deny',
      rule_id: 'kernel',
      reason:
        'iii::queue::redrive belongs to the harness (iii::*) and is not among the functions agents may call; no rule can allow it',
    });
  });

  it('leaves the always-safe functions to the rules, spelt exactly', () => {
    for (const entry of AGENT_SAFE.filter((e) => e.check.kind === 'always')) {
      expect(decide(entry.id, {})).toEqual(ALLOWED);
      for (const spelling of spellings(entry.id).slice(1))
        expect(decide(spelling, {})).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    }
  });

  it("allows reading one session only to that session's agent", () => {
    const own = AGENT_SAFE.filter((e) => e.check.kind === 'own_session').map((e) => e.id);
    expect(own.sort()).toEqual(
      ['harness::status', 'session::export', 'session::get', 'session::messages', 'session::tree'].sort(),
    );
    for (const id of own) {
      expect(decide(id, { session_id: 's1' }, 's1')).toEqual(ALLOWED);
      for (const [args, session] of [
        [{ session_id: 's2' }, 's1'], // another session
        [{ session_id: 's1' }, undefined], // the asker's session unknown
        [{}, 's1'],
        [{ session_id: ['s1'] }, 's1'],
        [{ session_id: 'S1' }, 's1'],
        [JSON.parse('{"__proto__": {"session_id": "s1"}}'), 's1'],
        [Object.create({ session_id: 's1' }), 's1'],
      ] as const)
        expect(decide(id, args, session)).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    }
  });

  it('leaves functions outside the reserved namespaces to the rules', () => {
    for (const id of ['shell::exec', 'web::fetch', 'agent_tools::remember', 'sessions_helper::x', 'statefoo::get'])
      expect(decide(id, {})).toEqual(ALLOWED);
  });

  it('leaves the tools made for agents (web::fetch) to the rules', () => {
    expect(agentTools.map((c) => c.id)).toContain('web::fetch');
    for (const tool of agentTools) {
      expect(decide(tool.id, { url: 'https://example.org/' })).toEqual(ALLOWED);
      expect(RESERVED_NAMESPACES).not.toContain(tool.id.split('::')[0]);
    }
  });
});

describe("kernel: engine storage only outside the harness's own", () => {
  const storage = AGENT_SAFE.filter((e) => e.check.kind === 'storage').map(
    (e) => [e.id, (e.check as { key: string }).key] as const,
  );
  const protectedTargets = [
    ...PROTECTED_STORAGE.map((p) => p.replaceAll('*', '_x')),
    'session',
    'sessions',
    'session_tree',
    'session::events',
    'turn_state',
    'approvals',
    'approval_settings',
    'budget',
    'llm_budget',
    'models',
    'harness_providers',
    'harness_ui_subscriptions',
    'harness_sends',
    'session_meta',
    'session_entries:abc',
    'session_inbox:abc',
    'approval_pending',
    'run',
    'auth',
    'ui',
    'agent::events',
    'agent::hook_reply',
    'agent_event_seq',
    'credentials',
    'compaction_lease',
  ];
  const targetSpellings = (t: string) => [
    t,
    ` ${t}`,
    `${t} `,
    t.toUpperCase(),
    t.replace(/(^|_)([a-z])/g, (_m, s: string, c: string) => `${s}${c.toUpperCase()}`),
    `${t}\u200b`,
    `${t[0]}\u0301${t.slice(1)}`,
    fullwidth(t),
    t.replace(/[aceopxyis]/g, (c) => LATIN_TO_CYRILLIC[c]!),
  ];

  it('covers every read and write of state and streams', () => {
    expect(storage.map(([id]) => id).sort()).toEqual(
      [
        'state::delete',
        'state::get',
        'state::list',
        'state::set',
        'state::update',
        'stream::delete',
        'stream::get',
        'stream::list',
        'stream::send',
        'stream::set',
        'stream::update',
      ].sort(),
    );
  });

  it.each(storage)('%s is denied on every protected %s, however spelt', (fn, key) => {
    for (const spelling of spellings(fn)) {
      for (const target of protectedTargets) {
        for (const t of targetSpellings(target)) {
          const decision = decide(spelling, { [key]: t, key: 'k', value: 1, data: 1, group_id: 'g', item_id: 'i' });
          if (decision.decision !== 'deny' || decision.rule_id !== 'kernel')
            throw new Error(`${JSON.stringify(spelling)} on ${JSON.stringify(t)} → ${JSON.stringify(decision)}`);
        }
      }
    }
  });

  it.each(storage)('%s is denied when its target cannot be read from the arguments', (fn, key) => {
    const unreadable: unknown[] = [
      undefined,
      null,
      'session',
      7,
      [],
      [{ [key]: 'mine' }],
      {},
      { [key]: 42 },
      { [key]: ['session'] },
      { [key]: null },
      { [key]: { toString: 'session' } },
      { [key.toUpperCase()]: 'session' },
      JSON.parse(`{"__proto__": {"${key}": "session"}}`),
      Object.create({ [key]: 'session' }),
    ];
    for (const args of unreadable) expect(decide(fn, args)).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
  });

  it.each(storage)('%s on an unprotected target is left to the rules', (fn, key) => {
    for (const target of ['my_notes', 'scratch', 'agent_memory', 'tool::cache'])
      expect(decide(fn, { [key]: target, key: 'k', value: 1 })).toEqual(ALLOWED);
  });

  it('protects scopes added in config', () => {
    const custom = compileKernel(['vault_*']);
    expect(
      checkPermission(
        permissive,
        'state::set',
        { scope: 'Vault_Main', key: 'k', value: 1 },
        { kernel: custom, maxMatchLength: 64 },
      ),
    ).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
  });
});
