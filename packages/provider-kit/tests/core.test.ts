import { type Bus, HarnessError } from '@iii-harness/runtime';
import { type ProviderStreamEvent, providerStreamEvent } from '@iii-harness/types';
import {
  AbortRegistry,
  backoffDelay,
  cachedResolver,
  classifyError,
  costOf,
  defaultRetryPolicy,
  describeOutcome,
  INVALID_ARGUMENTS_KEY,
  isContextOverflow,
  ProviderFailure,
  parseToolArguments,
  priceFor,
  requireCredential,
  resolveSettings,
  retryAfterFrom,
  retryBeforeFirstByte,
  StreamSink,
} from '../src/index.js';

function recordingWriter() {
  const sent: ProviderStreamEvent[] = [];
  let closed = 0;
  return {
    sent,
    closes: () => closed,
    writer: {
      sendMessage: (m: string) => void sent.push(providerStreamEvent.parse(JSON.parse(m))),
      close: () => void closed++,
    },
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** The deltas as they went out: `[type, content_index, delta]`. */
const wire = (sent: ProviderStreamEvent[]) =>
  sent.map((e) => ('delta' in e ? [e.type, e.content_index, e.delta] : [e.type]));
/** What a reader accumulates for one block. */
const joined = (sent: ProviderStreamEvent[], type: string, index: number) =>
  sent
    .filter((e) => e.type === type && 'content_index' in e && e.content_index === index)
    .map((e) => (e as { delta: string }).delta)
    .join('');

describe('StreamSink', () => {
  it('writes valid events, assembles the message, and ends with exactly one done', () => {
    const { sent, writer, closes } = recordingWriter();
    const sink = new StreamSink(writer, 'openai', 'gpt-4.1');
    sink.thinking(0, 'plan', 'sig');
    sink.text(1, 'Hel');
    sink.text(1, 'lo');
    sink.toolCallStart(2, 'call_1', 'agent_trigger');
    sink.toolCallDelta(2, 'call_1', '{"function_id":"fs::');
    sink.toolCallDelta(2, 'call_1', 'read","payload":{}}');
    sink.toolCallEnd(2, 'call_1');
    sink.usage({ input_tokens: 10, output_tokens: 5, cache_read_tokens: 2, cache_write_tokens: 0 });
    const message = sink.done('function_call');
    sink.text(1, 'late');
    sink.done('end');

    // All in one turn of the event loop: the deltas after the first are merged per block.
    expect(sent.map((e) => e.type)).toEqual([
      'thinking_delta',
      'text_delta',
      'tool_call_start',
      'tool_call_delta',
      'tool_call_end',
      'usage',
      'done',
    ]);
    expect(sink.count).toBe(9);
    expect(closes()).toBe(1);
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'plan', signature: 'sig' },
      { type: 'text', text: 'Hello' },
      {
        type: 'function_call',
        id: 'call_1',
        name: 'agent_trigger',
        arguments: { function_id: 'fs::read', payload: {} },
      },
    ]);
    expect(sent.at(-1)).toMatchObject({ type: 'done', message });
    expect(message).toMatchObject({
      provider: 'openai',
      model: 'gpt-4.1',
      stop_reason: 'function_call',
      usage: { input_tokens: 10, cache_read_tokens: 2 },
    });
  });

  it('fails with one error event carrying the partial message', () => {
    const { sent, writer } = recordingWriter();
    const sink = new StreamSink(writer, 'p', 'm');
    sink.text(0, 'partial');
    sink.fail(new ProviderFailure('server', 'upstream reset'));
    sink.fail(new ProviderFailure('server', 'again'));
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({
      type: 'error',
      code: 'provider_error',
      message: 'upstream reset',
      retryable: true,
      partial: { content: [{ type: 'text', text: 'partial' }] },
    });
  });

  it('ends calls left open before the terminal event, done or error: never a half-open call', () => {
    for (const end of ['done', 'fail'] as const) {
      const { sent, writer } = recordingWriter();
      const sink = new StreamSink(writer, 'p', 'm');
      sink.toolCallStart(0, 'call_a', 'agent_trigger');
      sink.toolCallDelta(0, 'call_a', '{"function_id":"x::y"}');
      sink.toolCallStart(1, 'call_b', 'agent_trigger');
      sink.toolCallDelta(1, 'call_b', '{"function_id":"x::');
      const message =
        end === 'done' ? sink.done('function_call') : sink.fail(new ProviderFailure('bad_response', 'cut'));
      expect(sent.map((e) => e.type).slice(-3)).toEqual([
        'tool_call_end',
        'tool_call_end',
        end === 'done' ? 'done' : 'error',
      ]);
      expect(message.content).toEqual([
        { type: 'function_call', id: 'call_a', name: 'agent_trigger', arguments: { function_id: 'x::y' } },
        {
          type: 'function_call',
          id: 'call_b',
          name: 'agent_trigger',
          arguments: { [INVALID_ARGUMENTS_KEY]: '{"function_id":"x::' },
        },
      ]);
    }
  });

  it('keeps going when the reader has gone away', () => {
    const sink = new StreamSink(
      {
        sendMessage: () => {
          throw new Error('closed');
        },
        close: () => undefined,
      },
      'p',
      'm',
    );
    sink.text(0, 'x');
    sink.text(0, 'y');
    expect(sink.done('end').content).toEqual([{ type: 'text', text: 'xy' }]);
  });
});

describe('StreamSink coalescing', () => {
  it('sends the first delta at once and merges the ones that follow in the same turn, sent when the turn ends', async () => {
    const { sent, writer } = recordingWriter();
    const sink = new StreamSink(writer, 'p', 'm');
    sink.text(0, 'a');
    expect(wire(sent)).toEqual([['text_delta', 0, 'a']]);
    sink.text(0, 'b');
    sink.text(0, 'c');
    expect(sent).toHaveLength(1);
    expect(sink.count).toBe(3); // held deltas count: a retry after them would repeat output
    await nextTurn();
    expect(wire(sent)).toEqual([
      ['text_delta', 0, 'a'],
      ['text_delta', 0, 'bc'],
    ]);
  });

  it('sends a paced stream (one delta per turn) one event per delta, each at once', async () => {
    const { sent, writer } = recordingWriter();
    const sink = new StreamSink(writer, 'p', 'm');
    for (const piece of ['a', 'b', 'c']) {
      sink.text(0, piece);
      expect(sent.at(-1)).toEqual({ type: 'text_delta', content_index: 0, delta: piece });
      await nextTurn();
    }
    expect(sent).toHaveLength(3);
  });

  it('stays busy while a burst lasts: after a turn that ended with held deltas, the next turn holds its first delta too', async () => {
    const { sent, writer } = recordingWriter();
    const sink = new StreamSink(writer, 'p', 'm');
    sink.text(0, 'a');
    sink.text(0, 'b');
    await nextTurn(); // 'b' went out at the end of that turn
    sink.text(0, 'c');
    sink.text(0, 'd');
    expect(wire(sent)).toEqual([
      ['text_delta', 0, 'a'],
      ['text_delta', 0, 'b'],
    ]);
    await nextTurn();
    expect(wire(sent).at(-1)).toEqual(['text_delta', 0, 'cd']);
    await nextTurn(); // a turn without deltas ends the burst
    sink.text(0, 'e');
    expect(wire(sent).at(-1)).toEqual(['text_delta', 0, 'e']);
  });

  it('sends what is held before another event, a delta of another block, and the terminal event, keeping the order', async () => {
    const { sent, writer, closes } = recordingWriter();
    const sink = new StreamSink(writer, 'p', 'm');
    sink.text(0, 'a');
    sink.text(0, 'b');
    sink.text(0, 'c');
    sink.thinking(1, 'x'); // another block
    sink.thinking(1, 'y');
    sink.toolCallStart(2, 'call_1', 'f'); // another event type
    sink.toolCallDelta(2, 'call_1', '{"n":');
    sink.toolCallDelta(2, 'call_1', '1}');
    sink.toolCallEnd(2, 'call_1');
    sink.usage({ input_tokens: 1, output_tokens: 2, cache_read_tokens: 0, cache_write_tokens: 0 });
    sink.text(3, 'p');
    sink.text(3, 'q');
    const message = sink.done('function_call'); // terminal
    await nextTurn();

    expect(wire(sent)).toEqual([
      ['text_delta', 0, 'a'],
      ['text_delta', 0, 'bc'],
      ['thinking_delta', 1, 'xy'],
      ['tool_call_start'],
      ['tool_call_delta', 2, '{"n":1}'],
      ['tool_call_end'],
      ['usage'],
      ['text_delta', 3, 'pq'],
      ['done'],
    ]);
    expect(closes()).toBe(1);
    expect(message.content).toEqual([
      { type: 'text', text: 'abc' },
      { type: 'thinking', thinking: 'xy' },
      { type: 'function_call', id: 'call_1', name: 'f', arguments: { n: 1 } },
      { type: 'text', text: 'pq' },
    ]);
  });

  it('sends held deltas before an error too, and nothing after the terminal event', async () => {
    const { sent, writer } = recordingWriter();
    const sink = new StreamSink(writer, 'p', 'm');
    sink.text(0, 'par');
    sink.text(0, 'tial');
    sink.fail(new ProviderFailure('server', 'reset'));
    await nextTurn();
    expect(wire(sent)).toEqual([['text_delta', 0, 'par'], ['text_delta', 0, 'tial'], ['error']]);
    expect(sent[2]).toMatchObject({ partial: { content: [{ type: 'text', text: 'partial' }] } });
  });

  it('keeps a thinking signature as its own delta, never merged, and the redacted block as it came', async () => {
    const { sent, writer } = recordingWriter();
    const sink = new StreamSink(writer, 'anthropic', 'm');
    sink.thinking(0, 'first ');
    sink.thinking(0, 'second ');
    sink.thinking(0, 'third');
    sink.thinking(0, '', 'SIG==');
    sink.redactedThinking(1, 'ENCRYPTED==');
    sink.thinking(2, 'more');
    sink.thinking(2, ' after');
    const message = sink.done('end');
    await nextTurn();

    expect(sent.filter((e) => e.type === 'thinking_delta')).toEqual([
      { type: 'thinking_delta', content_index: 0, delta: 'first ' },
      { type: 'thinking_delta', content_index: 0, delta: 'second third' },
      { type: 'thinking_delta', content_index: 0, delta: '', signature: 'SIG==' },
      { type: 'thinking_delta', content_index: 1, delta: '', signature: 'ENCRYPTED==' },
      { type: 'thinking_delta', content_index: 2, delta: 'more after' },
    ]);
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'first second third', signature: 'SIG==' },
      { type: 'thinking', thinking: '', signature: 'ENCRYPTED==', redacted: true },
      { type: 'thinking', thinking: 'more after' },
    ]);
  });

  it('sends a held delta once it has waited 2 ms, even inside one long turn', () => {
    let now = 1_000;
    const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const { sent, writer } = recordingWriter();
      const sink = new StreamSink(writer, 'p', 'm');
      sink.text(0, 'a'); // out at once
      sink.text(0, 'b'); // held since 1000
      now += 1;
      sink.text(0, 'c');
      expect(sent).toHaveLength(1);
      now += 1;
      sink.text(0, 'd'); // held 2 ms: out with it
      expect(wire(sent)).toEqual([
        ['text_delta', 0, 'a'],
        ['text_delta', 0, 'bcd'],
      ]);
      sink.text(0, 'e'); // still the same turn: held again
      expect(sent).toHaveLength(2);
      sink.done('end');
      expect(wire(sent)).toEqual([['text_delta', 0, 'a'], ['text_delta', 0, 'bcd'], ['text_delta', 0, 'e'], ['done']]);
    } finally {
      clock.mockRestore();
    }
  });

  it('loses and reorders nothing in a long burst spread over uneven turns', async () => {
    const { sent, writer } = recordingWriter();
    const sink = new StreamSink(writer, 'p', 'm');
    const pieces = { text: [] as string[], thinking: [] as string[], args: [] as string[] };
    let block = 0;
    sink.toolCallStart(100, 'call_x', 'f');
    for (let i = 0; i < 600; i++) {
      if (i % 97 === 0) block++; // now and then a new text or thinking block
      if (i % 5 === 0) {
        pieces.args.push(`${i},`);
        sink.toolCallDelta(100, 'call_x', `${i},`);
      } else if (block % 2) {
        pieces.thinking.push(`t${i}`);
        sink.thinking(block, `t${i}`);
      } else {
        pieces.text.push(`w${i}`);
        sink.text(block, `w${i}`);
      }
      if (i % 7 === 0 || i % 11 === 0) await nextTurn();
    }
    sink.toolCallEnd(100, 'call_x');
    const message = sink.done('end');
    await nextTurn();

    expect(sent.length).toBeLessThan(600);
    const all = (type: string) =>
      sent
        .filter((e) => e.type === type)
        .map((e) => (e as { delta: string }).delta)
        .join('');
    expect(all('text_delta')).toBe(pieces.text.join(''));
    expect(all('thinking_delta')).toBe(pieces.thinking.join(''));
    expect(all('tool_call_delta')).toBe(pieces.args.join(''));
    for (let b = 1; b <= block; b++) {
      const kind = b % 2 ? 'thinking_delta' : 'text_delta';
      const content = message.content.find((_, i) => i === b - 1);
      expect(content).toEqual(
        b % 2 ? { type: 'thinking', thinking: joined(sent, kind, b) } : { type: 'text', text: joined(sent, kind, b) },
      );
    }
    expect(sent.at(-2)).toMatchObject({
      type: 'tool_call_end',
      arguments: { [INVALID_ARGUMENTS_KEY]: pieces.args.join('') },
    });
    expect(sent.at(-1)?.type).toBe('done');
  });

  it('coalesces nothing and schedules nothing for `complete` (no channel)', () => {
    const sink = new StreamSink(undefined, 'p', 'm');
    sink.text(0, 'a');
    sink.text(0, 'b');
    expect(sink.count).toBe(2);
    expect(sink.done('end').content).toEqual([{ type: 'text', text: 'ab' }]);
  });
});

describe('parseToolArguments', () => {
  it('parses objects and keeps anything else for the model to see', () => {
    expect(parseToolArguments('')).toEqual({});
    expect(parseToolArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseToolArguments('{"a":')).toEqual({ [INVALID_ARGUMENTS_KEY]: '{"a":' });
    expect(parseToolArguments('[1]')).toEqual({ [INVALID_ARGUMENTS_KEY]: '[1]' });
  });
});

describe('classifyError', () => {
  it.each([
    [401, 'auth', false],
    [403, 'auth', false],
    [429, 'rate_limited', true],
    [529, 'overloaded', true],
    [500, 'server', true],
    [400, 'bad_request', false],
    [404, 'not_found', false],
  ])('status %i is %s (retryable: %s)', (status, kind, retryable) => {
    const failure = classifyError(Object.assign(new Error('x'), { status }));
    expect([failure.kind, failure.retryable]).toEqual([kind, retryable]);
  });

  it('recognises context overflow, connection failures and aborts', () => {
    expect(
      classifyError(Object.assign(new Error('prompt is too long: 210000 tokens > 200000 maximum'), { status: 400 }))
        .kind,
    ).toBe('context_overflow');
    expect(classifyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })).kind).toBe('connection');
    expect(classifyError(Object.assign(new Error('Connection error.'), { name: 'APIConnectionError' })).retryable).toBe(
      true,
    );
    const controller = new AbortController();
    controller.abort();
    expect(classifyError(new Error('whatever'), controller.signal).kind).toBe('aborted');
    expect(classifyError(new Error('odd')).retryable).toBe(false);
  });

  it.each([
    [
      'anthropic',
      400,
      '400 {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"}}',
    ],
    [
      'anthropic (older)',
      400,
      'input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again',
    ],
    [
      'openai chat',
      400,
      "400 This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
    ],
    [
      'openai responses',
      400,
      '400 Your input exceeds the context window of this model. Please adjust your input and try again.',
    ],
    ['kimi', 400, '400 Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)'],
    ['llama.cpp', 400, '400 the request exceeds the available context size, try increasing it'],
    [
      'llama.cpp (older, as 500)',
      500,
      '500 the request exceeds the available context size. try increasing the context size or enable context shift',
    ],
    [
      'lm studio n_keep',
      400,
      'The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input.',
    ],
    [
      'lm studio keep first',
      400,
      'Trying to keep the first 111490 tokens when context the overflows. However, the model is loaded with context length of only 32768 tokens, which is not enough.',
    ],
    ['lm studio truncate', 400, 'Cannot truncate prompt with n_keep (15028) >= n_ctx (7424)'],
    [
      'lm studio fit',
      400,
      'Input does not fit in context length. The input has 31430 tokens, but the context length only supports 30000 tokens.',
    ],
    ['lm studio mlx', 400, 'Context size has been exceeded.'],
  ])('recognises the %s context-overflow wording as context_overflow, not retryable', (_vendor, status, message) => {
    const failure = classifyError(Object.assign(new Error(message), { status }));
    expect([failure.kind, failure.retryable]).toEqual(['context_overflow', false]);
  });

  it('recognises overflow codes without the wording, and leaves look-alikes alone', () => {
    const coded = (code: string) => Object.assign(new Error('400 too big'), { status: 400, code });
    expect(classifyError(coded('context_length_exceeded')).kind).toBe('context_overflow');
    expect(
      classifyError(Object.assign(new Error('500 x'), { status: 500, type: 'exceed_context_size_error' })).kind,
    ).toBe('context_overflow');
    expect(isContextOverflow({ message: 'Rate limit reached for requests (tokens per minute)' })).toBe(false);
    expect(classifyError(Object.assign(new Error('429 prompt is too long'), { status: 429 })).kind).toBe(
      'rate_limited',
    );
    expect(classifyError(Object.assign(new Error('400 invalid tool schema'), { status: 400 })).kind).toBe(
      'bad_request',
    );
  });

  it('reads retry-after in seconds, milliseconds and HTTP dates', () => {
    expect(retryAfterFrom(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterFrom({ 'retry-after-ms': '150' })).toBe(150);
    expect(retryAfterFrom(new Headers({ 'retry-after': new Date(Date.now() + 3000).toUTCString() }))).toBeGreaterThan(
      1000,
    );
    expect(retryAfterFrom(new Headers())).toBeUndefined();
    expect(
      classifyError(
        Object.assign(new Error('slow down'), { status: 429, headers: new Headers({ 'retry-after': '1' }) }),
      ).retryAfterMs,
    ).toBe(1000);
  });
});

describe('retryBeforeFirstByte', () => {
  const policy = { ...defaultRetryPolicy, baseDelayMs: 1, maxDelayMs: 2 };

  it('retries retryable failures until one succeeds', async () => {
    let calls = 0;
    const result = await retryBeforeFirstByte(
      async () => {
        if (++calls < 3) throw Object.assign(new Error('busy'), { status: 503 });
        return 'ok';
      },
      { signal: new AbortController().signal, policy },
    );
    expect([result, calls]).toEqual(['ok', 3]);
  });

  it('never retries once the response started streaming', async () => {
    let calls = 0;
    await expect(
      retryBeforeFirstByte(
        async ({ started }) => {
          calls++;
          started();
          throw Object.assign(new Error('reset'), { status: 500 });
        },
        { signal: new AbortController().signal, policy },
      ),
    ).rejects.toMatchObject({ kind: 'server' });
    expect(calls).toBe(1);
  });

  it('does not retry non-retryable failures, and stops after maxRetries', async () => {
    let calls = 0;
    await expect(
      retryBeforeFirstByte(
        async () => {
          calls++;
          throw Object.assign(new Error('no'), { status: 401 });
        },
        { signal: new AbortController().signal, policy },
      ),
    ).rejects.toMatchObject({ kind: 'auth' });
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retryBeforeFirstByte(
        async () => {
          calls++;
          throw Object.assign(new Error('x'), { status: 500 });
        },
        { signal: new AbortController().signal, policy },
      ),
    ).rejects.toMatchObject({ kind: 'server' });
    expect(calls).toBe(policy.maxRetries + 1);
  });

  it('waits what retry-after asks, and gives up when it asks too much', async () => {
    const waits: number[] = [];
    let calls = 0;
    const started = Date.now();
    await retryBeforeFirstByte(
      async () => {
        if (++calls === 1)
          throw Object.assign(new Error('rate'), { status: 429, headers: { 'retry-after-ms': '120' } });
        return 'ok';
      },
      { signal: new AbortController().signal, policy, onRetry: (_f, ms) => waits.push(ms) },
    );
    expect(waits).toEqual([120]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    await expect(
      retryBeforeFirstByte(
        async () => {
          throw Object.assign(new Error('rate'), { status: 429, headers: { 'retry-after': '3600' } });
        },
        { signal: new AbortController().signal, policy },
      ),
    ).rejects.toMatchObject({ kind: 'rate_limited' });
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(
      retryBeforeFirstByte(
        async () => {
          throw Object.assign(new Error('rate'), { status: 429, headers: { 'retry-after': '30' } });
        },
        { signal: controller.signal, policy },
      ),
    ).rejects.toMatchObject({ kind: 'aborted' });
  });

  it('spreads backoff with jitter under the exponential bound', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(1);
    expect(backoffDelay(3, { ...defaultRetryPolicy }, () => 1)).toBe(4000);
    expect(backoffDelay(10, { ...defaultRetryPolicy }, () => 1)).toBe(defaultRetryPolicy.maxDelayMs);
  });
});

describe('AbortRegistry', () => {
  it('aborts by request id once, and a newer request with the same id supersedes the old one', () => {
    const registry = new AbortRegistry();
    const first = registry.start('r1');
    const second = registry.start('r1');
    expect(first.signal.aborted).toBe(true);
    registry.finish('r1', first);
    expect(registry.abort('r1')).toBe(true);
    expect(second.signal.aborted).toBe(true);
    expect(registry.abort('r1')).toBe(false);
    expect(registry.size).toBe(0);
  });
});

describe('pricing', () => {
  it('matches the longest model-id prefix and computes cost', () => {
    expect(priceFor('openai', 'gpt-4.1-mini-2025-04-14')).toEqual({
      input: 0.4,
      output: 1.6,
      cache_read: 0.1,
      cache_write: 0,
    });
    expect(priceFor('openai', 'gpt-4.1-2025-04-14')?.input).toBe(2);
    expect(priceFor('lmstudio', 'qwen')).toBeUndefined();
    expect(
      costOf(
        { input_tokens: 1_000_000, output_tokens: 500_000, cache_read_tokens: 0, cache_write_tokens: 0 },
        { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      ),
    ).toBeCloseTo(10.5);
  });
});

describe('cachedResolver and requireCredential', () => {
  const resolved = (token?: string) => ({
    provider: 'p',
    kind: 'cloud' as const,
    api_url: 'http://x',
    max_tokens: 1,
    credential: token
      ? { configured: true, source: 'stored' as const, token }
      : { configured: false, source: 'none' as const },
  });

  it('reuses settings for the TTL, forgets failures, and resolves every time with TTL 0', async () => {
    let calls = 0;
    const cached = cachedResolver(async () => resolved(`t${++calls}`), 50);
    expect((await cached()).credential.token).toBe('t1');
    expect((await cached()).credential.token).toBe('t1');
    await new Promise((r) => setTimeout(r, 60));
    expect((await cached()).credential.token).toBe('t2');
    let fail = true;
    const flaky = cachedResolver(async () => {
      if (fail) throw new Error('harness down');
      return resolved('ok');
    }, 10_000);
    await expect(flaky()).rejects.toThrow('harness down');
    fail = false;
    expect((await flaky()).credential.token).toBe('ok');
    let uncached = 0;
    const none = cachedResolver(async () => resolved(`u${++uncached}`), 0);
    await none();
    await none();
    expect(uncached).toBe(2);
  });

  it('refreshes after a request once half the TTL has passed, in the background, and never serves a value older than the TTL', async () => {
    let now = 0;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      let calls = 0;
      let failNext = false;
      const cached = cachedResolver(async () => {
        calls++;
        if (failNext) throw new Error('harness down');
        return resolved(`t${calls}`);
      }, 1_000);
      /** One request at `at`: its settings, then the end-of-request refresh (let it land). */
      const request = async (at: number) => {
        now = at;
        const token = (await cached()).credential.token;
        cached.refreshIfAging();
        await new Promise((r) => setImmediate(r));
        return token;
      };
      expect(await request(0)).toBe('t1');
      expect(await request(400)).toBe('t1');
      expect(calls).toBe(1);
      expect(await request(600)).toBe('t1'); // past half: this request is served, the next finds a fresh value
      expect(calls).toBe(2);
      expect(await request(700)).toBe('t2');
      expect(calls).toBe(2);
      failNext = true;
      expect(await request(1_200)).toBe('t2'); // the refresh fails: t2 (asked at 600) still serves until 1600
      expect(await request(1_500)).toBe('t2');
      now = 1_700;
      await expect(cached()).rejects.toThrow('harness down'); // expired: the failure reaches the caller
      failNext = false;
      const next = `t${calls + 1}`;
      expect(await request(1_800)).toBe(next);
      const uncached = cachedResolver(async () => resolved(`u${++calls}`), 0);
      uncached.refreshIfAging();
      expect(calls).toBe(Number(next.slice(1))); // TTL 0: nothing cached, nothing refreshed
    } finally {
      clock.mockRestore();
    }
  });

  it('asks cloud providers for a key and names where it comes from', () => {
    const cloud = {
      id: 'openai',
      display_name: 'OpenAI',
      credential_env_var: 'OPENAI_API_KEY',
      default_url: 'https://api.openai.com/v1',
      default_max_tokens: 1,
      supports_model_listing: true,
      kind: 'cloud' as const,
    };
    expect(() => requireCredential(cloud, resolved())).toThrow(/OPENAI_API_KEY/);
    expect(() => requireCredential(cloud, resolved('k'))).not.toThrow();
    expect(() => requireCredential({ ...cloud, kind: 'local' }, resolved())).not.toThrow();
  });
});

describe('resolveSettings', () => {
  const declaration = {
    id: 'openai',
    display_name: 'OpenAI',
    credential_env_var: 'OPENAI_API_KEY',
    default_url: 'https://api.openai.com/v1',
    default_max_tokens: 1,
    supports_model_listing: true,
    kind: 'cloud' as const,
  };
  const stored = {
    provider: 'openai',
    kind: 'cloud' as const,
    api_url: 'http://harness-url',
    max_tokens: 9,
    credential: { configured: true, source: 'stored' as const, token: 'sk-stored-0123456789' },
  };
  const absent = () =>
    new HarnessError('not_found', 'Function harness::provider::resolve not found', { reason: 'function_not_found' });
  /** A bus whose resolve answers from the list in turn (errors are thrown), then keeps the last. */
  const busAnswering = (...answers: unknown[]) => {
    const calls: unknown[] = [];
    const bus = {
      call: async (_contract: unknown, payload: unknown) => {
        calls.push(payload);
        const answer = answers.length > 1 ? answers.shift() : answers[0];
        if (answer instanceof Error) throw answer;
        return answer;
      },
    } as unknown as Bus;
    return { bus, calls };
  };
  const env = { OPENAI_API_KEY: 'sk-env-0123456789' };

  it('runs standalone (environment settings) when no harness ever answered', async () => {
    const { bus, calls } = busAnswering(absent());
    const resolved = await resolveSettings(bus, declaration, { env, waitMs: 5_000 });
    expect(resolved).toMatchObject({ api_url: declaration.default_url, credential: { source: 'environment' } });
    expect(calls).toHaveLength(1);
  });

  it('keeps standalone for a registry that does not know the provider', async () => {
    const link = { seen: true };
    const { bus } = busAnswering(new HarnessError('not_found', 'provider openai is not registered'));
    expect((await resolveSettings(bus, declaration, { env, link })).credential.source).toBe('environment');
  });

  it('waits out a harness that answered once and is now away (restarting or silent)', async () => {
    const link = { seen: false };
    const first = busAnswering(stored);
    await resolveSettings(first.bus, declaration, { env, link });
    expect(link.seen).toBe(true);
    for (const away of [
      absent(),
      new HarnessError('unavailable', 'invocation stopped'),
      new HarnessError('timeout', 'x'),
    ]) {
      const { bus, calls } = busAnswering(away, away, stored);
      expect(await resolveSettings(bus, declaration, { env, link, waitMs: 5_000 })).toMatchObject({
        api_url: 'http://harness-url',
      });
      expect(calls).toHaveLength(3);
    }
  });

  it('fails as a retryable connection failure once the wait is over', async () => {
    const { bus, calls } = busAnswering(absent());
    const failure = await resolveSettings(bus, declaration, { env, link: { seen: true }, waitMs: 250 }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ProviderFailure);
    expect(failure).toMatchObject({ kind: 'connection', retryable: true });
    expect((failure as Error).message).toContain('harness::provider::resolve');
    expect(calls.length).toBeGreaterThan(1);
  });

  it('passes any other answer on as it is', async () => {
    const { bus } = busAnswering(new HarnessError('invalid_payload', 'bad'));
    await expect(resolveSettings(bus, declaration, { env, link: { seen: true } })).rejects.toMatchObject({
      code: 'invalid_payload',
    });
  });
});

describe('request spans', () => {
  const handle = () => {
    const attributes: Record<string, unknown> = {};
    const failures: string[] = [];
    return {
      attributes,
      failures,
      span: {
        annotate: (a: object) => Object.assign(attributes, a),
        fail: (c: string) => failures.push(c),
        event: () => {},
      },
    };
  };
  const message = (usage: Record<string, number>) => ({
    role: 'assistant' as const,
    content: [],
    provider: 'openai',
    model: 'gpt-4.1',
    usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, ...usage },
    stop_reason: 'end' as const,
  });

  it('carry usage, and the cost from the model price when the provider gave none', () => {
    const { span, attributes, failures } = handle();
    describeOutcome(span, 'openai', { message: message({ input_tokens: 1_000_000, output_tokens: 1_000_000 }) });
    expect(attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1_000_000,
      'gen_ai.usage.output_tokens': 1_000_000,
      'gen_ai.response.finish_reasons': ['end'],
      'iii.cost.usd': 10,
      'iii.outcome': 'ok',
    });
    expect(failures).toEqual([]);
  });

  it('mark a failure by its kind', () => {
    const { span, attributes, failures } = handle();
    const failure = new ProviderFailure('rate_limited', 'slow down, key sk-abcdefgh1234');
    describeOutcome(span, 'openai', { message: { ...message({}), stop_reason: 'error' as const }, failure });
    expect(failures).toEqual(['rate_limited']);
    expect(attributes).toMatchObject({ 'iii.outcome': 'rate_limited', 'iii.provider.retryable': true });
    expect(JSON.stringify(attributes)).not.toContain('sk-abcdefgh1234');
  });
});
