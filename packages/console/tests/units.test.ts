import type { IncomingMessage } from 'node:http';
import type { Bus } from '@iii-harness/runtime';
import { createLogger } from '@iii-harness/runtime';
import { eventually } from '@iii-harness/testing';
import type { AgentEvent, SessionEntry, SessionEvent } from '@iii-harness/types';
import { buildAllowlist } from '../src/allowlist.js';
import { configSchema, parseConsoleFlags } from '../src/config.js';
import { EngineLink } from '../src/engine-link.js';
import { LiveHub, type PageSink } from '../src/live.js';
import type { ServerFrame } from '../src/protocol.js';
import { AccessGuard, isLoopbackHost, tokensEqual } from '../src/security.js';
import { SeqBuffer } from '../web/src/state/seq.js';
import { activePath, addNode, buildRows, emptyTree, newestLeafUnder, siblingsOf } from '../web/src/state/transcript.js';

const req = (headers: Record<string, string>) => ({ headers, socket: {} }) as unknown as IncomingMessage;

describe('flags and config', () => {
  it('reads --url, --port, --host, --token and the worker flags', () => {
    expect(
      parseConsoleFlags([
        '--url',
        'ws://e:1',
        '--port=0',
        '--host',
        '0.0.0.0',
        '--token',
        't'.repeat(20),
        '--log-level',
        'warn',
      ]),
    ).toEqual({
      url: 'ws://e:1',
      port: 0,
      host: '0.0.0.0',
      token: 't'.repeat(20),
      logLevel: 'warn',
      help: false,
      version: false,
    });
    expect(parseConsoleFlags(['-h']).help).toBe(true);
  });

  it('refuses unknown flags and bad ports', () => {
    expect(() => parseConsoleFlags(['--bogus'])).toThrow('unknown option');
    expect(() => parseConsoleFlags(['--port', '70000'])).toThrow('--port');
    expect(() => parseConsoleFlags(['--port'])).toThrow('needs a value');
  });

  it('defaults to 127.0.0.1:3113 and refuses short tokens', () => {
    expect(configSchema.parse({})).toMatchObject({ host: '127.0.0.1', port: 3113 });
    expect(configSchema.safeParse({ token: 'short' }).success).toBe(false);
  });
});

describe('access guard', () => {
  it('knows loopback', () => {
    for (const h of ['127.0.0.1', '127.3.4.5', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '::', '128.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('compares tokens in constant time, by value', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
  });

  it('without a token: loopback Host only, same-origin WebSocket only', () => {
    const guard = new AccessGuard({ host: '127.0.0.1', port: 3113, allowedOrigins: ['https://proxy.example'] });
    expect(guard.tokenRequired).toBe(false);
    expect(guard.hostAllowed(req({ host: '127.0.0.1:3113' }))).toBe(true);
    expect(guard.hostAllowed(req({ host: 'localhost:3113' }))).toBe(true);
    expect(guard.hostAllowed(req({ host: 'attacker.example:3113' }))).toBe(false);
    expect(guard.hostAllowed(req({ host: '127.0.0.1:9999' }))).toBe(false);
    expect(guard.originAllowed(req({ host: '127.0.0.1:3113', origin: 'http://127.0.0.1:3113' }))).toBe(true);
    expect(guard.originAllowed(req({ host: '127.0.0.1:3113', origin: 'https://proxy.example' }))).toBe(true);
    expect(guard.originAllowed(req({ host: '127.0.0.1:3113', origin: 'http://evil.example' }))).toBe(false);
    expect(guard.originAllowed(req({ host: '127.0.0.1:3113', origin: 'null' }))).toBe(false);
    expect(guard.originAllowed(req({ host: '127.0.0.1:3113' }))).toBe(false);
  });

  it('with a token: cookie or bearer, nothing else', () => {
    const token = 'x'.repeat(32);
    const guard = new AccessGuard({ host: '0.0.0.0', port: 3113, token, allowedOrigins: [] });
    expect(guard.authorized(req({}))).toBe(false);
    expect(guard.authorized(req({ cookie: `iii_console_3113=${token}` }))).toBe(true);
    expect(guard.authorized(req({ cookie: `iii_console_4000=${token}` }))).toBe(false);
    expect(guard.authorized(req({ authorization: `Bearer ${token}` }))).toBe(true);
    expect(guard.authorized(req({ authorization: 'Bearer nope' }))).toBe(false);
    expect(guard.queryTokenValid(new URL(`http://h/?token=${token}`))).toBe(true);
    expect(guard.queryTokenValid(new URL('http://h/?token=no'))).toBe(false);
    expect(guard.sessionCookie()).toBe(`iii_console_3113=${token}; HttpOnly; SameSite=Strict; Path=/`);
  });
});

describe('allowlist', () => {
  const allow = buildAllowlist({ call_timeout_ms: 1, compact_timeout_ms: 1 });
  it('holds no function that returns a secret, writes the transcript, or drives the engine', () => {
    for (const id of allow.keys()) {
      expect(id).not.toMatch(/^(state|stream|queue|iii|engine::(functions|workers|queue|channels|register))::/);
      expect(id).not.toMatch(/get_token|provider::resolve|session::append|run::start|approval::hold|ui::/);
      // The engine's stored telemetry is read, never wiped (engine::traces::clear, engine::logs::clear).
      expect(id).not.toMatch(/::clear$/);
    }
    expect([...allow.keys()]).toEqual(
      expect.arrayContaining(['harness::send', 'approval::resolve', 'auth::set_token', 'models::list', 'run::abort']),
    );
  });
});

describe('engine link', () => {
  it('tells the pages which workers are up after every reconnection, even when nothing changed', async () => {
    const client = { connectionState: 'connected' };
    const bus = {
      call: async () => ({ functions: [{ function_id: 'session::tree' }, { function_id: 'harness::send' }] }),
    } as unknown as Bus;
    const epochs: number[] = [];
    const pushes: Array<{ session: boolean }> = [];
    const link = new EngineLink(
      'ws://127.0.0.1:1',
      (status) => epochs.push(status.epoch),
      (features) => pushes.push(features),
      createLogger({ worker: 'test', level: 'silent' }),
    );
    try {
      link.attach(client, bus);
      await eventually(() => expect(pushes).toHaveLength(1), { timeoutMs: 5_000 });
      expect(pushes[0]).toMatchObject({ session: true, harness: true, approvals: false });
      // The engine restarts; the same workers come back: the pages still hear it (they re-read).
      client.connectionState = 'reconnecting';
      await eventually(() => expect(link.engine.connected).toBe(false), { timeoutMs: 5_000 });
      client.connectionState = 'connected';
      await eventually(() => expect(pushes).toHaveLength(2), { timeoutMs: 5_000 });
      expect(pushes[1]).toEqual(pushes[0]);
      expect(epochs).toEqual([1, 1, 2]);
    } finally {
      link.close();
    }
  });
});

describe('live hub', () => {
  const sink = (id: string, follows: string[]): PageSink & { got: ServerFrame[] } => {
    const got: ServerFrame[] = [];
    return { id, got, follows: (s) => follows.includes(s), send: (f) => got.push(f) };
  };
  const event = (type: string, session = 's1') =>
    ({ type, session_id: session, turn_id: 't', seq: 1, timestamp: 1 }) as unknown as AgentEvent;

  it('sends deltas only to pages showing the session; summaries to every page', () => {
    const hub = new LiveHub();
    const showing = sink('a', ['s1']);
    const elsewhere = sink('b', ['s2']);
    hub.add(showing);
    hub.add(elsewhere);
    hub.agentEvent(event('message_update'));
    hub.agentEvent(event('approval_requested'));
    expect(showing.got.map((f) => (f as { event: { type: string } }).event.type)).toEqual([
      'message_update',
      'approval_requested',
    ]);
    expect(elsewhere.got.map((f) => (f as { event: { type: string } }).event.type)).toEqual(['approval_requested']);
  });

  it('sends entry bodies only to pages showing the session', () => {
    const hub = new LiveHub();
    const showing = sink('a', ['s1']);
    const elsewhere = sink('b', []);
    hub.add(showing);
    hub.add(elsewhere);
    const appended = {
      type: 'entry_appended',
      session_id: 's1',
      seq: 4,
      timestamp: 1,
      entry_id: 'e',
      entry: { secret: 'body' },
    } as unknown as SessionEvent;
    hub.sessionEvent(appended);
    hub.sessionEvent({ ...appended, type: 'inbox_pushed' } as unknown as SessionEvent);
    expect(showing.got).toHaveLength(2);
    expect(elsewhere.got).toEqual([
      { t: 'session', event: { type: 'entry_appended', session_id: 's1', seq: 4, timestamp: 1, entry_id: 'e' } },
    ]);
  });
});

describe('the transcript (page logic)', () => {
  let seq = 0;
  const entry = (id: string, parent: string | null, role: 'user' | 'assistant' = 'user'): SessionEntry =>
    ({
      id,
      parent_id: parent,
      seq: ++seq,
      depth: 0,
      revision: 0,
      created_at: 0,
      updated_at: 0,
      type: 'message',
      message:
        role === 'user'
          ? { role: 'user', content: id }
          : {
              role: 'assistant',
              content: [{ type: 'text', text: id }],
              provider: 'p',
              model: 'm',
              usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 },
              stop_reason: 'end',
            },
    }) as SessionEntry;

  it('follows the active leaf, lists siblings, and lands on the newest leaf of a branch', () => {
    const tree = emptyTree();
    for (const e of [
      entry('q1', null),
      entry('t1:0:assistant', 'q1', 'assistant'),
      entry('q2', null),
      entry('t2:0:assistant', 'q2', 'assistant'),
    ])
      addNode(tree, e);
    tree.leaf = 't1:0:assistant';
    expect(activePath(tree).map((e) => e.id)).toEqual(['q1', 't1:0:assistant']);
    expect(siblingsOf(tree, tree.nodes.get('q1')!)).toEqual(['q1', 'q2']);
    expect(newestLeafUnder(tree, 'q2')).toBe('t2:0:assistant');
    const rows = buildRows(activePath(tree), new Map([['t1', { turn_id: 't1', first_seq: 1 }]]));
    expect(rows.map((r) => r.kind)).toEqual(['user', 'assistant']);
    expect(rows[1]).toMatchObject({ turn: { turn_id: 't1' } });
  });

  it('hands out events once, in order, holding those after a gap', () => {
    const buffer = new SeqBuffer<{ seq: number }>(0);
    expect(buffer.push([{ seq: 2 }, { seq: 1 }, { seq: 1 }]).map((e) => e.seq)).toEqual([1, 2]);
    expect(buffer.push([{ seq: 4 }])).toEqual([]);
    expect(buffer.gap).toBe(true);
    expect(buffer.push([{ seq: 3 }, { seq: 2 }]).map((e) => e.seq)).toEqual([3, 4]);
    expect(buffer.push([{ seq: 7 }])).toEqual([]);
    expect(buffer.skipGap().map((e) => e.seq)).toEqual([7]);
  });
});
