/**
 * Unit tests of the pure pieces: frame decoding, UUID normalisation, cron expressions,
 * update ops edge cases, channel TTL sweep, HTTP route table, outbound frame coalescing.
 */

import type { WebSocket } from 'ws';
import { ChannelManager } from '../src/builtins/channels.js';
import { rfc3339 } from '../src/builtins/cron.js';
import { CronExpressionError, nextFireTime, parseCronExpression } from '../src/builtins/cron-expression.js';
import { RouteTable } from '../src/builtins/http-routes.js';
import { applyUpdateOps, parseOps } from '../src/builtins/update-ops.js';
import { WorkerConnection } from '../src/connection.js';
import { DEFAULT_URL_SECURITY, isPrivateIp, urlProblem } from '../src/http-functions/url-policy.js';
import { decodeFrame, FrameError, normalizeUuid } from '../src/protocol/frames.js';
import { filterMatches, parseFilters, wildcardMatch } from '../src/rbac/policy.js';

describe('decodeFrame', () => {
  test('normalises null optionals to absent and keeps required null data', () => {
    const f = decodeFrame(
      JSON.stringify({
        type: 'invokefunction',
        invocation_id: null,
        function_id: 'f',
        data: null,
        traceparent: null,
        metadata: null,
        action: null,
      }),
    );
    expect(f).toEqual({ type: 'invokefunction', function_id: 'f', data: null });
  });

  test('accepts every UUID form the uuid crate parses and re-serializes it hyphenated lowercase', () => {
    const id = '67E55044-10B1-426F-9247-BB680E5FE0C8';
    const lower = id.toLowerCase();
    expect(normalizeUuid(id)).toBe(lower);
    expect(normalizeUuid(lower.replace(/-/g, ''))).toBe(lower);
    expect(normalizeUuid(`{${lower}}`)).toBe(lower);
    expect(normalizeUuid(`urn:uuid:${lower}`)).toBe(lower);
    expect(normalizeUuid('67e55044-10b1-426f-9247')).toBeUndefined();
    const f = decodeFrame(JSON.stringify({ type: 'invocationresult', invocation_id: id, function_id: 'f' }));
    expect(f).toMatchObject({ invocation_id: lower });
  });

  test.each([
    ['registertriggertype without description', { type: 'registertriggertype', id: 'x' }],
    ['invocationresult without invocation_id', { type: 'invocationresult', function_id: 'f' }],
    ['a non-string traceparent', { type: 'invokefunction', function_id: 'f', data: 1, traceparent: 5 }],
    [
      'an enqueue action without a queue',
      { type: 'invokefunction', function_id: 'f', data: 1, action: { type: 'enqueue' } },
    ],
    [
      'a stacktrace that is not a string',
      {
        type: 'invocationresult',
        invocation_id: crypto.randomUUID(),
        function_id: 'f',
        error: { code: 'c', message: 'm', stacktrace: 1 },
      },
    ],
  ])('drops %s', (_label, frame) => {
    expect(decodeFrame(JSON.stringify(frame))).toBeInstanceOf(FrameError);
  });

  test('registerservice defaults name to ""', () => {
    expect(decodeFrame(JSON.stringify({ type: 'registerservice', id: 's' }))).toEqual({
      type: 'registerservice',
      id: 's',
      name: '',
    });
  });
});

describe('cron expressions (Rust cron crate dialect)', () => {
  const next = (expr: string, from: string) => rfc3339(nextFireTime(parseCronExpression(expr), new Date(from))!);

  test('seconds come first; 6 or 7 fields', () => {
    expect(next('*/15 * * * * *', '2024-01-01T00:00:07Z')).toBe('2024-01-01T00:00:15+00:00');
    expect(next('0 */5 * * * *', '2024-01-01T00:03:00Z')).toBe('2024-01-01T00:05:00+00:00');
    expect(next('30 0 9 * * * 2025', '2024-06-01T00:00:00Z')).toBe('2025-01-01T09:00:30+00:00');
    expect(() => parseCronExpression('* * * * *')).toThrow(CronExpressionError);
    expect(() => parseCronExpression('')).toThrow(CronExpressionError);
  });

  test('day-of-week is 1-7 with 1 = Sunday, and names work', () => {
    // 2024-01-01 is a Monday.
    expect(next('0 0 0 * * 1', '2024-01-01T00:00:00Z')).toBe('2024-01-07T00:00:00+00:00');
    expect(next('0 0 0 * * SUN', '2024-01-01T00:00:00Z')).toBe('2024-01-07T00:00:00+00:00');
    expect(next('0 0 12 * * MON-FRI', '2024-01-06T00:00:00Z')).toBe('2024-01-08T12:00:00+00:00');
    expect(() => parseCronExpression('0 0 0 * * 0')).toThrow(/outside 1-7/);
  });

  test('day-of-month and day-of-week must both match; ? is allowed only there', () => {
    // The 13th that is a Friday (6): 2024-09-13.
    expect(next('0 0 0 13 * FRI', '2024-01-14T00:00:00Z')).toBe('2024-09-13T00:00:00+00:00');
    expect(next('0 0 0 ? JAN,FEB ?', '2024-03-01T00:00:00Z')).toBe('2025-01-01T00:00:00+00:00');
    expect(() => parseCronExpression('? * * * * *')).toThrow(CronExpressionError);
  });

  test('ranges with steps, point steps, lists, shorthands; invalid pieces rejected', () => {
    expect(next('10-20/5 * * * * *', '2024-01-01T00:00:11Z')).toBe('2024-01-01T00:00:15+00:00');
    expect(next('50/3 * * * * *', '2024-01-01T00:00:57Z')).toBe('2024-01-01T00:00:59+00:00');
    expect(next('1,30 * * * * *', '2024-01-01T00:00:02Z')).toBe('2024-01-01T00:00:30+00:00');
    expect(next('@hourly', '2024-01-01T10:20:00Z')).toBe('2024-01-01T11:00:00+00:00');
    expect(next('@weekly', '2024-01-01T10:20:00Z')).toBe('2024-01-07T00:00:00+00:00');
    for (const bad of ['60 * * * * *', 'MON/2 * * * * *', '5-1 * * * * *', '*/0 * * * * *', '1,,2 * * * * *'])
      expect(() => parseCronExpression(bad)).toThrow(CronExpressionError);
  });

  test('rfc3339 matches chrono: +00:00 and fractional seconds only when non-zero', () => {
    expect(rfc3339(new Date('2024-05-06T07:08:09.000Z'))).toBe('2024-05-06T07:08:09+00:00');
    expect(rfc3339(new Date('2024-05-06T07:08:09.120Z'))).toBe('2024-05-06T07:08:09.120+00:00');
  });
});

describe('update ops edge cases', () => {
  test('root increment on a missing value creates by; on an existing number adds', () => {
    expect(applyUpdateOps(undefined, parseOps('t', [{ type: 'increment', path: '', by: 3 }])).value).toBe(3);
    expect(applyUpdateOps(10, parseOps('t', [{ type: 'decrement', path: '', by: 3 }])).value).toBe(7);
    expect(applyUpdateOps({ n: 1.5 }, parseOps('t', [{ type: 'increment', path: 'n', by: 2 }])).value).toEqual({
      n: 3.5,
    });
  });

  test('root append on a missing value: strings stay strings, others become arrays', () => {
    expect(applyUpdateOps(undefined, parseOps('t', [{ type: 'append', value: 'hi' }])).value).toBe('hi');
    expect(applyUpdateOps(undefined, parseOps('t', [{ type: 'append', value: { k: 1 } }])).value).toEqual([{ k: 1 }]);
  });

  test('null fields are not "missing" for numeric ops', () => {
    const r = applyUpdateOps({ n: null }, parseOps('t', [{ type: 'increment', path: 'n', by: 1 }]));
    expect(r.value).toEqual({ n: null });
    expect(r.errors[0]).toMatchObject({ op_index: 0, code: 'increment.not_number' });
  });

  test('path validation: proto keys, long segments, depth', () => {
    const long = 'x'.repeat(257);
    const r = applyUpdateOps(
      {},
      parseOps('t', [
        { type: 'set', path: 'constructor', value: 1 },
        { type: 'set', path: long, value: 1 },
        { type: 'merge', path: Array.from({ length: 33 }, () => 'a'), value: {} },
        { type: 'merge', path: ['a', ''], value: {} },
        { type: 'merge', value: JSON.parse('{"__proto__": {"polluted": true}}') },
      ]),
    );
    expect(r.errors.map((e) => e.code)).toEqual([
      'set.path.proto_polluted',
      'set.path.segment_too_long',
      'merge.path.too_deep',
      'merge.path.empty_segment',
      'merge.value.proto_polluted',
    ]);
    expect(r.value).toEqual({});
  });

  test('does not mutate the stored value it was given', () => {
    const old = { list: [1] };
    applyUpdateOps(old, parseOps('t', [{ type: 'append', path: 'list', value: 2 }]));
    expect(old).toEqual({ list: [1] });
  });

  test('invalid ops fail the whole call like serde', () => {
    expect(() => parseOps('state::update', [{ type: 'increment', path: 'n', by: 1.5 }])).toThrow(
      /deserialize input for state::update/,
    );
    expect(() => parseOps('state::update', 'nope')).toThrow(/expected a sequence/);
    expect(() => parseOps('state::update', undefined)).toThrow(/missing field `ops`/);
  });
});

describe('channels', () => {
  test('channels nobody connected to are swept after 5 minutes', () => {
    const m = new ChannelManager();
    const { channel } = m.create();
    const used = m.create().channel;
    used.readerTaken = true;
    m.sweep(Date.now() + 4 * 60_000);
    expect(m.lookup(channel.id, channel.accessKey)).toBeDefined();
    m.sweep(Date.now() + 6 * 60_000);
    expect(m.lookup(channel.id, channel.accessKey)).toBeUndefined();
    expect(m.lookup(used.id, used.accessKey)).toBeDefined();
    expect(m.lookup(used.id, 'wrong')).toBeUndefined();
    m.close();
  });
});

describe('http route table', () => {
  const table = () => new RouteTable();
  const add = (
    t: RouteTable,
    method: string,
    apiPath: string,
    triggerId: string = crypto.randomUUID(),
    workerId = 'w',
  ) => t.add({ method, apiPath, functionId: 'f', middlewareFunctionIds: [], triggerId, workerId });

  test('leading slash optional; params extracted; 405 for another method; trailing slash is another path', () => {
    const t = table();
    add(t, 'GET', '/todos/:id');
    expect(t.match('GET', '/todos/7')).toMatchObject({ params: { id: '7' } });
    expect(t.match('POST', '/todos/7')).toBe('method');
    expect(t.match('GET', '/todos/7/')).toBeUndefined();
    expect(t.match('GET', '/todos/')).toBeUndefined();
    expect(t.match('HEAD', '/todos/7')).toMatchObject({ params: { id: '7' } });
  });

  test('same key replaces; removal needs the same trigger and worker', () => {
    const t = table();
    add(t, 'GET', 'a', 't1', 'w1');
    add(t, 'GET', '/a', 't2', 'w2');
    expect(t.size).toBe(1);
    t.removeByTrigger('t1', 'w1');
    expect(t.size).toBe(1);
    t.removeByTrigger('t2', 'w2');
    expect(t.size).toBe(0);
  });
});

describe('outbound coalescing', () => {
  /** A connection over a fake socket that logs what reaches it, in order. */
  function connection(withSocket = true) {
    const log: string[] = [];
    const ws = { send: (text: string) => log.push(`send ${text}`), bufferedAmount: 0 } as unknown as WebSocket;
    const socket = {
      cork: () => log.push('cork'),
      uncork: () => log.push('uncork'),
      pause: () => log.push('pause'),
      resume: () => log.push('resume'),
      once: () => undefined,
    };
    const conn = new WorkerConnection(
      ws,
      '127.0.0.1',
      () => undefined,
      () => undefined,
      withSocket ? socket : undefined,
    );
    return { conn, log };
  }
  const endOfTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

  test('frames sent in one tick share one cork, are released together after it, in order', async () => {
    const { conn, log } = connection();
    conn.send('a');
    conn.send('b');
    conn.send('c');
    expect(log).toEqual(['cork', 'send a', 'send b', 'send c']);
    await endOfTick();
    expect(log).toEqual(['cork', 'send a', 'send b', 'send c', 'uncork']);
    conn.send('d');
    await endOfTick();
    expect(log.slice(5)).toEqual(['cork', 'send d', 'uncork']);
  });

  test('without a socket each frame goes straight to the WebSocket; a closed connection drops frames', async () => {
    const { conn, log } = connection(false);
    conn.send('a');
    conn.markClosed();
    conn.send('b');
    await endOfTick();
    expect(log).toEqual(['send a']);
  });
});

describe('RBAC filters and the HTTP-function URL policy', () => {
  test('match("…") globs are anchored at both ends; * spans any run, :: included', () => {
    expect(wildcardMatch('test::ew::public::*', 'test::ew::public::echo')).toBe(true);
    expect(wildcardMatch('test::ew::public::*', 'x::test::ew::public::echo')).toBe(false);
    expect(wildcardMatch('*::public', 'a::b::public')).toBe(true);
    expect(wildcardMatch('api::*::read', 'api::users::read')).toBe(true);
    expect(wildcardMatch('api::*::read', 'api::users::write')).toBe(false);
    expect(wildcardMatch('ab*ba', 'aba')).toBe(false);
    expect(wildcardMatch('*', '')).toBe(true);
    expect(wildcardMatch('exact', 'exact')).toBe(true);
  });

  test('metadata filters: exact values and match() globs, every key must match', () => {
    const [meta] = parseFilters([{ metadata: { tier: 'free', name: 'match("*public*")' } }]);
    expect(filterMatches(meta!, 'x', { tier: 'free', name: 'my-public-fn' })).toBe(true);
    expect(filterMatches(meta!, 'x', { tier: 'paid', name: 'my-public-fn' })).toBe(false);
    expect(filterMatches(meta!, 'x', undefined)).toBe(false);
  });

  test.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['2001:4860:4860::8888', false],
  ])('%s is private: %s', (ip, expected) => {
    expect(isPrivateIp(ip)).toBe(expected);
  });

  test('urlProblem: https, allowlist and private addresses, with the engine’s reasons', async () => {
    const strict = DEFAULT_URL_SECURITY;
    await expect(urlProblem('http://example.com/x', strict)).resolves.toBe('HTTPS is required');
    await expect(urlProblem('https://127.0.0.1/x', strict)).resolves.toBe('Private IP blocked');
    await expect(urlProblem('not a url', strict)).resolves.toBe('Invalid URL');
    const listed = { ...strict, url_allowlist: ['*.example.com'], block_private_ips: false };
    await expect(urlProblem('https://api.example.com/x', listed)).resolves.toBeUndefined();
    await expect(urlProblem('https://example.com/x', listed)).resolves.toBe('URL not in allowlist');
  });
});
