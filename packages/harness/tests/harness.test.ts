import { closeSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError, toWireError } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contract, contracts } from '@iii-harness/types';
import { z } from 'zod';
import { type Config, harnessWorker } from '../src/index.js';

const { harness, policy, ui, engine: builtins } = contracts;

const SECRET = 'sk-ant-test-0123456789-SECRET-abcdef';
const ARG_SECRET = 'an-argument-nobody-may-log-4242';

let engine: DevEngine;
let worker: TestWorker<Config>;
let client: TestClient;
let dir: string;
let policyFile: string;
let config: Record<string, unknown>;
const logsOfAllWorkers: string[] = [];

beforeAll(async () => {
  engine = await startDevEngine();
  dir = mkdtempSync(join(tmpdir(), 'iih-harness-'));
  policyFile = join(dir, 'iii-permissions.yaml');
  config = {
    permissions_path: policyFile,
    reload_debounce_ms: 20,
    reload_settle_ms: 1_000,
    reload_poll_ms: 100,
    providers: { anthropic: { max_tokens: 1234 } },
    ui_push_timeout_ms: 1_000,
  };
  worker = await startTestWorker(harnessWorker, { url: engine.url, config });
  client = await connectClient(engine.url);
});

afterAll(async () => {
  await client.close();
  await worker.shutdown();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Over the wire without a contract: for payloads a contract would not let us send. */
const invoke = (id: string, payload: unknown) => client.bus.invoke(id, payload) as Promise<any>;
const check = (function_id: string, args?: unknown, session_id?: string) =>
  client.bus.call(policy.checkPermissions, {
    function_id,
    ...(args === undefined ? {} : { args }),
    ...(session_id ? { session_id } : {}),
  });
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code: string }) => error.code,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const writePolicy = (text: string) => {
  const temp = join(dir, '.next.yaml');
  writeFileSync(temp, text);
  renameSync(temp, policyFile);
};
const uiState = async () =>
  ((await client.bus.call(builtins.stateList, { scope: 'harness_ui_subscriptions' })) as Array<{ client_id: string }>)
    .slice()
    .sort((a, b) => a.client_id.localeCompare(b.client_id));
const providerState = async () =>
  ((await client.bus.call(builtins.stateList, { scope: 'harness_providers' })) as Array<{ id: string }>)
    .slice()
    .sort((a, b) => a.id.localeCompare(b.id));

const PUBLIC = [
  policy.checkPermissions,
  harness.providerRegister,
  harness.providerList,
  harness.providerResolve,
  harness.send,
  harness.status,
  harness.stop,
  ui.subscribe,
  ui.unsubscribe,
].map((c) => c.id);

const anthropic = {
  id: 'anthropic',
  display_name: 'Anthropic',
  credential_env_var: 'ANTHROPIC_API_KEY',
  default_url: 'https://api.anthropic.com/v1/messages',
  default_max_tokens: 8192,
  supports_model_listing: true,
};
const lmstudio = {
  id: 'lmstudio',
  display_name: 'LM Studio',
  default_url: 'http://127.0.0.1:1234/v1/chat/completions',
  default_max_tokens: 4096,
  supports_model_listing: true,
  kind: 'local' as const,
};

describe('harness', () => {
  it('documents every function with a description and both schemas', async () => {
    for (const id of [...PUBLIC, harness.uiFanout.id]) {
      const info = await client.bus.call(builtins.functionsInfo, { function_id: id });
      expect(info.description).toEqual(expect.any(String));
      expect(info.request_schema).toMatchObject({ type: 'object' });
      expect(info.response_schema).toEqual(expect.any(Object));
    }
    const listed = await client.bus.call(builtins.functionsList, { prefix: 'harness::ui' });
    expect(listed.functions).toEqual([]); // the fan-out handler is internal
  });

  describe('policy::check_permissions', () => {
    it('denies everything until a policy file exists, then hot-reloads it', async () => {
      expect(await check('notes::get', {})).toMatchObject({ decision: 'deny', rule_id: 'no_policy' });
      writePolicy(
        [
          'version: 1',
          'rules:',
          "  - '!shell::exec'",
          "  - { rule_id: git, function: shell::*, action: allow, args: { command: { matches: '^git ' } } }",
          '  - notes::get',
          "  - '*::list'",
        ].join('\n'),
      );
      await eventually(async () =>
        expect(await check('notes::get', {})).toEqual({ decision: 'allow', rule_id: 'notes::get' }),
      );
      expect(await check('shell::exec', { command: 'git status' })).toMatchObject({
        decision: 'deny',
        rule_id: '!shell::exec',
      });
      expect(await check('shell::run', { command: 'git status' })).toEqual({ decision: 'allow', rule_id: 'git' });
      expect(await check('models::list')).toEqual({ decision: 'allow', rule_id: '*::list' });
      expect(await check('web::fetch', { url: 'https://x' })).toEqual({ decision: 'needs_approval' });
    });

    it('policy::check_batch answers each call as check_permissions does, in order', async () => {
      const calls = [
        { function_id: 'shell::run', args: { command: 'git status' } },
        { function_id: 'shell::exec', args: { command: 'git status' } },
        { function_id: 'web::fetch', args: { url: 'https://x' } },
        { function_id: 'session::append', args: {} },
        { function_id: 'notes::get' },
      ];
      const { decisions } = await client.bus.call(policy.checkBatch, { calls, session_id: 's1' });
      const singles = await Promise.all(calls.map((c) => check(c.function_id, c.args, 's1')));
      expect(decisions).toEqual(singles);
      expect(decisions.map((d) => d.decision)).toEqual(['allow', 'deny', 'needs_approval', 'deny', 'allow']);
      await expect(codeOf(invoke('policy::check_batch', { calls: [] }))).resolves.toBe('invalid_payload');
    });

    it('keeps the last good policy when an edit is invalid, and logs why', async () => {
      writePolicy('rules: [notes::get, { function: web::fetch, action: yes }]');
      await eventually(() => expect(worker.logs.text()).toContain('keeping the last good policy'));
      expect(await check('models::list')).toEqual({ decision: 'allow', rule_id: '*::list' });
      writePolicy("rules: ['*']");
      await eventually(async () => expect(await check('web::fetch')).toEqual({ decision: 'allow', rule_id: '*' }));
      // Dropping two denies for a catch-all widens permissions: the log says how.
      expect(worker.logs.lines()).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: 'permissions policy loaded; it WIDENS what agents may call',
          added_allows: ['*: allow *'],
          removed_denies: ['!shell::exec: deny shell::exec'],
        }),
      );
    });

    it('applies the kernel deny list over the wire whatever the arguments', async () => {
      const hostile: unknown[] = [
        undefined,
        null,
        7,
        'text',
        [],
        {},
        { scope: 'mine' },
        JSON.parse('{"__proto__": {"scope": "mine"}}'),
        { blob: 'x'.repeat(1_000_000) },
      ];
      for (const function_id of [
        'approval::resolve',
        'Approval::resolve',
        ' run::start',
        'auth::get_token',
        'harness::provider::resolve',
        'ui::subscribe',
        'engine::register_trigger',
      ]) {
        for (const args of hostile)
          expect(await check(function_id, args)).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
      }
      for (const scope of ['harness_providers', ' session_tree', 'Session_Tree', 'turn_state'])
        expect(await check('state::set', { scope, key: 'k', value: 1 })).toMatchObject({
          decision: 'deny',
          rule_id: 'kernel',
        });
      expect(
        await check('stream::set', { stream_name: 'agent::events', group_id: 's', item_id: 'i', data: {} }),
      ).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
      expect(await check('state::set', { scope: 'notes', key: 'k', value: 1 })).toEqual({
        decision: 'allow',
        rule_id: '*',
      });
    });

    // Issue 10, finding 6: under an allow-all policy, in every mode, an agent could forge events
    // on other operators' screens and re-run dead-lettered jobs (turn steps included).
    it.each([
      ['harness::ui::fanout', { type: 'stream', streamName: 'agent::events', groupId: 'victim', event: {} }],
      ['iii::queue::redrive', { queue: 'turn-step' }],
      ['iii::queue::redrive_message', { queue: 'turn-step', message_id: 'm1' }],
      ['iii::queue::discard_message', { queue: 'turn-step', message_id: 'm1' }],
      ['engine::queue::enqueue', { queue: 'turn-step', function_id: 'turn::step', data: {} }],
      ['ui::session::event::operator-1', { session_id: 'victim', event: { type: 'approval_requested' } }],
      ['engine::workers::list', {}],
      ['session::create', { session_id: 'someone-elses-future-id' }],
      ['session::clone', { session_id: 's1', new_session_id: 'someone-elses-future-id' }],
      ['session::list', {}],
    ])('denies %s to an agent even under an allow-all policy', async (function_id, args) => {
      expect(await check(function_id, args, 's1')).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    });

    it("lets an agent read its own session, never another's", async () => {
      for (const function_id of ['session::messages', 'session::get', 'harness::status']) {
        expect(await check(function_id, { session_id: 's1' }, 's1')).toEqual({ decision: 'allow', rule_id: '*' });
        expect(await check(function_id, { session_id: 's2' }, 's1')).toMatchObject({
          decision: 'deny',
          rule_id: 'kernel',
        });
        expect(await check(function_id, { session_id: 's2' })).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
      }
      for (const [function_id, args] of [
        ['state::list', { scope: 'session_entries:s2' }],
        ['state::get', { scope: 'turn_state', key: 's2' }],
        ['stream::list', { stream_name: 'agent::events', group_id: 's2' }],
      ] as const)
        expect(await check(function_id, args, 's1')).toMatchObject({ decision: 'deny', rule_id: 'kernel' });
    });

    // Issue 10, finding 9: a rules file cut off inside an args block parsed as a valid, looser
    // policy and was in force while the write was in progress.
    it('never puts a half-written rules file in force', async () => {
      writePolicy("rules: ['!fs::*', '*']\n");
      await eventually(async () =>
        expect(await check('fs::write', { path: '/tmp/a' })).toMatchObject({ decision: 'deny' }),
      );
      const full = [
        'rules:',
        '  - rule_id: tmp-appends',
        '    function: fs::write',
        '    action: allow',
        '    args:',
        "      path: { matches: '^/tmp/' }",
        '      mode: { equals: append }',
        "  - '!fs::*'",
        "  - '*'",
        '',
      ].join('\n');
      const cut = full.indexOf('      mode:');
      const overwrite = { path: '/tmp/x', mode: 'overwrite' };
      const handle = openSync(policyFile, 'w');
      try {
        writeSync(handle, full.slice(0, cut));
        const seen = new Set<string>();
        for (let i = 0; i < 15; i++) {
          seen.add((await check('fs::write', overwrite)).decision);
          await sleep(10);
        }
        expect([...seen]).toEqual(['deny']);
        writeSync(handle, full.slice(cut));
      } finally {
        closeSync(handle);
      }
      await eventually(
        async () =>
          expect(await check('fs::write', { path: '/tmp/x', mode: 'append' })).toEqual({
            decision: 'allow',
            rule_id: 'tmp-appends',
          }),
        { timeoutMs: 15_000 },
      );
      expect(await check('fs::write', overwrite)).toMatchObject({ decision: 'deny', rule_id: '!fs::*' });
    }, 30_000);

    it('never logs the arguments it judges', async () => {
      await check('shell::exec', { command: ARG_SECRET, api_key: ARG_SECRET });
      expect(worker.logs.text()).not.toContain(ARG_SECRET);
    });
  });

  describe('provider registry', () => {
    it('registers, lists (with config overrides) and resolves without a credential', async () => {
      expect(await client.bus.call(harness.providerRegister, lmstudio)).toEqual({ ok: true, id: 'lmstudio' });
      expect(await client.bus.call(harness.providerRegister, anthropic)).toEqual({ ok: true, id: 'anthropic' });
      const { providers } = await client.bus.call(harness.providerList, {});
      expect(providers.map((p: { id: string }) => p.id)).toEqual(['anthropic', 'lmstudio']);
      expect(providers[0]).toMatchObject({
        ...anthropic,
        kind: 'cloud',
        api_url: anthropic.default_url,
        max_tokens: 1234,
      });
      expect(providers[1]).toMatchObject({ ...lmstudio, api_url: lmstudio.default_url, max_tokens: 4096 });

      // auth-credentials is not running: nothing to read.
      expect(await client.bus.call(harness.providerResolve, { provider: 'anthropic' })).toEqual({
        provider: 'anthropic',
        kind: 'cloud',
        api_url: anthropic.default_url,
        max_tokens: 1234,
        credential: { configured: false, source: 'none' },
      });
      expect(await client.bus.call(harness.providerResolve, { provider: 'lmstudio' })).toMatchObject({
        credential: { configured: true, source: 'none' },
      });
      expect(await codeOf(client.bus.call(harness.providerResolve, { provider: 'nobody' }))).toBe('not_found');
    });

    it('resolves the credential from auth::get_token, and never logs it', async () => {
      const answers: unknown[] = [];
      let answer: () => unknown = () => ({ provider: 'anthropic', token: SECRET, source: 'stored' });
      const auth = client.client.registerFunction('auth::get_token', async (input: unknown) => {
        answers.push(input);
        return answer();
      });
      try {
        await client.bus.call(builtins.functionsList, {});
        expect(await client.bus.call(harness.providerResolve, { provider: 'anthropic' })).toMatchObject({
          credential: { configured: true, source: 'stored', token: SECRET },
        });
        expect(answers[0]).toMatchObject({ provider: 'anthropic' });

        answer = () => ({ provider: 'anthropic', token: SECRET, source: 'environment' });
        expect(await client.bus.call(harness.providerResolve, { provider: 'anthropic' })).toMatchObject({
          credential: { configured: true, source: 'environment', token: SECRET },
        });

        // A vault answer that breaks auth::get_token's contract is not trusted: the credential is unreadable.
        answer = () => ({ provider: 'anthropic', token: null });
        expect(await codeOf(client.bus.call(harness.providerResolve, { provider: 'anthropic' }))).toBe('unavailable');
        expect(worker.logs.lines()).toContainEqual(
          expect.objectContaining({
            msg: 'auth::get_token failed',
            err: expect.objectContaining({ message: expect.stringContaining('breaks its contract') }),
          }),
        );

        answer = () => {
          throw toWireError(new HarnessError('not_found', 'no credential for anthropic'));
        };
        expect(await client.bus.call(harness.providerResolve, { provider: 'anthropic' })).toMatchObject({
          credential: { configured: false, source: 'none' },
        });

        answer = () => {
          throw toWireError(new HarnessError('internal', 'vault file is corrupt'));
        };
        expect(await codeOf(client.bus.call(harness.providerResolve, { provider: 'anthropic' }))).toBe('unavailable');
        expect(await client.bus.call(harness.providerResolve, { provider: 'lmstudio' })).toMatchObject({
          credential: { configured: true, source: 'none' },
        });
      } finally {
        auth.unregister();
      }
      expect(worker.logs.text()).not.toContain(SECRET);
      expect(worker.logs.text()).toContain('provider resolved'); // the debug lines were written, without the token
      expect(await client.bus.call(harness.providerList, {})).not.toEqual(
        expect.objectContaining({ token: expect.anything() }),
      );
      expect(JSON.stringify(await client.bus.call(harness.providerList, {}))).not.toContain(SECRET);
    });

    it('replaces a declaration when a provider registers again', async () => {
      await client.bus.call(harness.providerRegister, { ...lmstudio, default_max_tokens: 2048 });
      expect(await client.bus.call(harness.providerResolve, { provider: 'lmstudio' })).toMatchObject({
        max_tokens: 2048,
      });
    });
  });

  describe('UI fan-out', () => {
    const received: Array<{ session_id: string; event: { n: number } }> = [];
    const writeEvent = (session: string, n: number) =>
      client.bus.call(builtins.streamSet, {
        stream_name: 'agent::events',
        group_id: session,
        item_id: `e${n}`,
        data: { type: 'turn_state_changed', session_id: session, seq: n, n },
      });
    const seen = (session: string) => received.filter((r) => r.session_id === session).map((r) => r.event.n);

    beforeAll(async () => {
      client.client.registerFunction(
        'ui::session::event::c1',
        async (push: { session_id: string; event: { n: number } }) => {
          await sleep(Math.random() * 3); // a client that takes its time must still see events in order
          received.push({ session_id: push.session_id, event: push.event });
          return {};
        },
      );
      await client.bus.call(builtins.functionsList, {});
    });

    const fanoutTriggers = async () =>
      (await client.bus.call(builtins.registeredTriggersList, { trigger_type: 'stream' })).registered_triggers.filter(
        (t: { function_id: string }) => t.function_id === 'harness::ui::fanout',
      );

    it("forwards the followed session's events, in order, and nothing else", async () => {
      expect(await fanoutTriggers()).toEqual([]); // nobody follows: agent events cost this worker nothing
      expect(await client.bus.call(ui.subscribe, { client_id: 'c1', session_id: 's1' })).toEqual({
        ok: true,
        subscriptions: { all: false, session_ids: ['s1'] },
      });
      await Promise.all(Array.from({ length: 40 }, (_, n) => writeEvent('s1', n)));
      await writeEvent('s2', 1000);
      await eventually(() => expect(seen('s1')).toHaveLength(40));
      expect(seen('s1')).toEqual(Array.from({ length: 40 }, (_, n) => n));
      await sleep(100);
      expect(seen('s2')).toEqual([]);
      expect(received[0]!.event).toEqual({ type: 'turn_state_changed', session_id: 's1', seq: 0, n: 0 });
    });

    it('follows every session with session_id null, and unsubscribes', async () => {
      expect(await client.bus.call(ui.subscribe, { client_id: 'c1', session_id: null })).toEqual({
        ok: true,
        subscriptions: { all: true, session_ids: ['s1'] },
      });
      await writeEvent('s2', 1);
      await eventually(() => expect(seen('s2')).toEqual([1]));

      expect(await client.bus.call(ui.unsubscribe, { client_id: 'c1', session_id: null })).toEqual({
        ok: true,
        subscriptions: { all: false, session_ids: ['s1'] },
      });
      await writeEvent('s2', 2);
      await writeEvent('s1', 100);
      await eventually(() => expect(seen('s1')).toContain(100));
      expect(seen('s2')).toEqual([1]);

      expect(await client.bus.call(ui.unsubscribe, { client_id: 'c1', session_id: 's1' })).toEqual({
        ok: true,
        subscriptions: { all: false, session_ids: [] },
      });
      expect(await uiState()).toEqual([]);
      expect(await fanoutTriggers()).toEqual([]);
      await writeEvent('s1', 101);
      await sleep(150);
      expect(seen('s1')).not.toContain(101);
    });

    it('evicts a client that has gone away', async () => {
      const c2 = await connectClient(engine.url, 'ui-c2');
      const c2Seen: unknown[] = [];
      c2.client.registerFunction('ui::session::event::c2', async (push: unknown) => void c2Seen.push(push));
      await c2.bus.call(ui.subscribe, { client_id: 'c2', session_id: 's3' });
      await client.bus.call(ui.subscribe, { client_id: 'c1', session_id: 's3' });
      await writeEvent('s3', 1);
      await eventually(() => expect(c2Seen).toHaveLength(1));
      expect((await uiState()).map((s) => s.client_id)).toEqual(['c1', 'c2']);

      await c2.close();
      await writeEvent('s3', 2);
      await eventually(async () => expect((await uiState()).map((s) => s.client_id)).toEqual(['c1']));
      await eventually(() => expect(seen('s3')).toEqual([1, 2]));
      expect(worker.logs.text()).toContain('UI client has gone away; evicting it');
    });

    it('keeps subscriptions and registrations across a restart of the harness', async () => {
      const before = await providerState();
      expect(worker.logs.text()).not.toContain(SECRET);
      logsOfAllWorkers.push(worker.logs.text());
      await worker.shutdown();
      worker = await startTestWorker(harnessWorker, { url: engine.url, config });
      expect(await providerState()).toEqual(before);
      expect((await client.bus.call(harness.providerList, {})).providers.map((p: { id: string }) => p.id)).toEqual([
        'anthropic',
        'lmstudio',
      ]);
      await eventually(async () => {
        await writeEvent('s3', 3);
        expect(seen('s3')).toContain(3);
      });
    });
  });

  describe('malformed input is rejected with invalid_payload and changes nothing', () => {
    const snapshot = async () => ({
      providers: await providerState(),
      ui: await uiState(),
      decision: await check('state::get'),
    });
    it.each([
      ['policy::check_permissions', {}],
      ['policy::check_permissions', { function_id: '' }],
      ['policy::check_permissions', { function_id: 5, args: {} }],
      ['policy::check_permissions', { function_id: 'state::get', extra: true }],
      ['policy::check_permissions', { function_id: 'x'.repeat(2000) }],
      ['harness::provider::register', { ...anthropic, default_url: 'ftp://example.com' }],
      ['harness::provider::register', { ...anthropic, id: 'Anthropic' }],
      ['harness::provider::register', { ...anthropic, default_max_tokens: -1 }],
      ['harness::provider::register', { ...anthropic, kind: 'hybrid' }],
      ['harness::provider::register', { ...anthropic, api_key: SECRET }],
      ['harness::provider::register', { id: 'newcomer', display_name: 'New' }],
      ['harness::provider::list', { provider: 'anthropic' }],
      ['harness::provider::resolve', {}],
      ['harness::provider::resolve', { provider: '../etc' }],
      ['ui::subscribe', { client_id: 'c9' }],
      ['ui::subscribe', { client_id: 'bad id!', session_id: 's1' }],
      ['ui::subscribe', { client_id: 'c9', session_id: '' }],
      ['ui::subscribe', { client_id: 'c9::x', session_id: null }],
      ['ui::unsubscribe', { client_id: 'c1', session_id: 5 }],
      ['ui::unsubscribe', { session_id: 's1' }],
    ])('%s %j', async (id, payload) => {
      await client.bus.call(ui.subscribe, { client_id: 'c1', session_id: 's1' });
      const before = await snapshot();
      expect(await codeOf(invoke(id, payload))).toBe('invalid_payload');
      expect(await snapshot()).toEqual(before);
    });
  });

  // Issue 10, finding 7: a vendor's 401 body that echoes the key reached callers, turn records and
  // agent events in full. A worker now masks every key its environment or vault holds in the
  // errors it sends, so what crosses the wire carries no key.
  describe('secrets in errors', () => {
    const KEY = 'sk-ant-api03-echoed-by-the-vendor-0000000042';
    let vendorish: TestWorker<unknown>;

    beforeAll(async () => {
      process.env.IIH_TEST_VENDOR_API_KEY = KEY;
      const echo401 = contract({
        id: 'vendorish::complete',
        description: 'Fails the way a vendor does when the key is wrong',
        input: z.object({}).loose(),
        output: z.object({}),
      });
      vendorish = await startTestWorker(
        {
          name: 'vendorish',
          description: 'a provider-like worker',
          config: z.object({}),
          register: (w) =>
            w.function(echo401, () => {
              throw new HarnessError(
                'provider_error',
                `401 {"type":"error","error":{"message":"invalid x-api-key: ${KEY}"}}`,
              );
            }),
        },
        { url: engine.url },
      );
      delete process.env.IIH_TEST_VENDOR_API_KEY;
    });
    afterAll(() => vendorish.shutdown());

    it('masks a key the failing worker holds, in the error every caller receives', async () => {
      // The raw client, as a console or another worker would see the wire.
      const raw = await client.client.trigger({ function_id: 'vendorish::complete', payload: {} }).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(raw).toContain('provider_error: 401');
      expect(raw).toContain('invalid x-api-key: [redacted]');
      expect(raw).not.toContain(KEY);
    });
  });

  it('never wrote a secret to its logs', () => {
    for (const text of [...logsOfAllWorkers, worker.logs.text()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(ARG_SECRET);
    }
  });
});
