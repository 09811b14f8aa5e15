import {
  checkPermission,
  compileKernel,
  KERNEL_DENIED_FUNCTIONS,
  PROTECTED_STORAGE,
  parsePolicy,
  STORAGE_WRITES,
} from '../src/index.js';

/**
 * The kernel deny list against hostile input: every kernel-denied id, spelled every way an agent
 * might try, with every kind of argument, under a policy that allows everything it can.
 */
const kernel = compileKernel(['harness_providers', 'harness_ui_subscriptions']);
const options = { kernel, maxMatchLength: 4096 };

/** One concrete id per kernel entry (globs filled in), plus ids the globs are meant to catch. */
const deniedIds = [
  ...KERNEL_DENIED_FUNCTIONS.map((entry) => entry.pattern.replaceAll('*', 'anything')),
  'approval::resolve',
  'approval::set_mode',
  'approval::add_always_allow',
  'policy::check_permissions',
  'run::start',
  'run::abort',
  'turn::get_state',
  'turn::assistant_streaming',
  'harness::provider::resolve',
  'harness::provider::register',
  'harness::provider::list',
  'hook-fanout::publish_collect',
  'ui::subscribe',
  'ui::unsubscribe',
  'ui::session::event::c1',
  'engine::register_trigger',
  'engine::unregister_trigger',
  'engine::workers::register',
  'engine::queue::enqueue',
  'engine::channels::create',
  'queue::define',
  'queue::redrive',
  'provider::anthropic::stream',
  'provider::lmstudio::load_model',
  'stream::set(agent::events)',
];

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
    ...deniedIds.map((id) => `  - ${JSON.stringify(id)}`),
    '  - { rule_id: any-args, function: "*", action: allow, args: {} }',
  ].join('\n'),
);

describe('kernel deny list', () => {
  it.each(deniedIds)('%s is denied however spelt and whatever the arguments', (id) => {
    for (const spelling of spellings(id)) {
      for (const [label, args] of hostileArgs) {
        const decision = checkPermission(permissive, spelling, args, options);
        if (decision.decision !== 'deny' || decision.rule_id !== 'kernel')
          throw new Error(`${JSON.stringify(spelling)} with ${label} → ${JSON.stringify(decision)}`);
      }
      // Also with no policy loaded: the kernel answers, not the fail-closed default.
      expect(checkPermission(null, spelling, {}, options)).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    }
  });

  it("leaves the engine's read-only catalogue functions to the rules, spelt exactly", () => {
    for (const id of ['engine::functions::list', 'engine::functions::info', 'engine::workers::list']) {
      expect(checkPermission(permissive, id, {}, options)).toEqual({ decision: 'allow', rule_id: '*' });
      expect(checkPermission(permissive, id.toUpperCase(), {}, options)).toMatchObject({
        decision: 'deny',
        rule_id: 'kernel',
      });
    }
  });

  it('leaves unrelated functions to the rules', () => {
    for (const id of [
      'auth::status',
      'auth::list_providers',
      'budget::get',
      'budget::usage',
      'session::messages',
      'models::list',
      'state::get',
      'shell::exec',
      'harness::status',
    ])
      expect(checkPermission(permissive, id, {}, options)).toEqual({ decision: 'allow', rule_id: '*' });
  });
});

describe("kernel: writes to the harness's own storage", () => {
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
    'session_meta',
    'session_entries:abc',
    'session_inbox:abc',
    'approval_pending',
    'run',
    'auth',
    'ui',
    'agent::events',
    'agent::hook_reply',
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

  it.each(STORAGE_WRITES.map((w) => [w.function, w.key] as const))(
    '%s is denied on every protected %s, however spelt',
    (fn, key) => {
      for (const spelling of spellings(fn)) {
        for (const target of protectedTargets) {
          for (const t of targetSpellings(target)) {
            const decision = checkPermission(
              permissive,
              spelling,
              { [key]: t, key: 'k', value: 1, data: 1, group_id: 'g', item_id: 'i' },
              options,
            );
            if (decision.decision !== 'deny' || decision.rule_id !== 'kernel')
              throw new Error(`${JSON.stringify(spelling)} on ${JSON.stringify(t)} → ${JSON.stringify(decision)}`);
          }
        }
      }
    },
  );

  it.each(STORAGE_WRITES.map((w) => [w.function, w.key] as const))(
    '%s is denied when its target cannot be read from the arguments',
    (fn, key) => {
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
      for (const args of unreadable)
        expect(checkPermission(permissive, fn, args, options)).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    },
  );

  it.each(STORAGE_WRITES.map((w) => [w.function, w.key] as const))(
    '%s on an unprotected target is left to the rules',
    (fn, key) => {
      for (const target of ['my_notes', 'scratch', 'agent_memory', 'tool::cache'])
        expect(checkPermission(permissive, fn, { [key]: target, key: 'k', value: 1 }, options)).toEqual({
          decision: 'allow',
          rule_id: '*',
        });
    },
  );

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
