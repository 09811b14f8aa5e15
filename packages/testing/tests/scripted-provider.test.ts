import { contracts } from '@iii-harness/types';
import { z } from 'zod';
import {
  codeOf,
  connectClient,
  createScriptedProvider,
  type DevEngine,
  openProviderStream,
  type ProviderEvent,
  type ScriptedProvider,
  scriptedContracts,
  startDevEngine,
  startTestWorker,
  streamFromProvider,
  type TestClient,
  type TestWorker,
} from '../src/index.js';

let engine: DevEngine;
let client: TestClient;
let provider: ScriptedProvider;
let worker: TestWorker<unknown>;

beforeAll(async () => {
  engine = await startDevEngine();
  client = await connectClient(engine.url);
  provider = createScriptedProvider({ fallback: undefined });
  worker = (await startTestWorker(provider.spec, { url: engine.url })) as TestWorker<unknown>;
});

afterAll(async () => {
  await worker?.shutdown();
  await client?.close();
  await engine?.close();
});

type Ev = ProviderEvent & {
  delta?: string;
  name?: string;
  arguments?: unknown;
  message?: any;
  code?: string;
  retryable?: boolean;
  stop_reason?: string;
  usage?: Record<string, number>;
};
let n = 0;
const request = (text: string, extra: Record<string, unknown> = {}) => ({
  request_id: `req-${++n}`,
  model: 'scripted-model',
  messages: [{ role: 'user' as const, content: text }],
  ...extra,
});
const stream = (text: string, extra?: Record<string, unknown>) =>
  streamFromProvider<Ev>(client.bus, 'scripted', request(text, extra));

describe('scripted provider', () => {
  it('documents its functions in engine::functions::info', async () => {
    for (const name of ['stream', 'complete', 'abort', 'refresh_models', 'script', 'requests']) {
      const info = await client.bus.call(contracts.engine.functionsInfo, {
        function_id: `provider::scripted::${name}`,
      });
      expect(info.description).toEqual(expect.any(String));
      expect(info.request_schema).toMatchObject({ type: 'object' });
      expect(info.response_schema).toMatchObject({ type: 'object' });
    }
  });

  it('plays turns in order and records what it was sent', async () => {
    provider.script(
      {
        steps: [
          { thinking: 'plan', signature: 'sig' },
          { text: 'Reading.' },
          { tool_call: { id: 'call_1', name: 'agent_trigger', arguments: { function_id: 'fs::read' } } },
        ],
        usage: { input: 12, output: 7, cache_read: 3 },
      },
      { steps: [{ text: 'All done.' }] },
    );
    const first = await stream('read the file', {
      system: 'Be brief.',
      tools: [{ name: 'agent_trigger', description: 'd', parameters: { type: 'object' } }],
    });
    // Played in one event-loop turn: the kit's sink sends the first delta at once and merges the rest per block (the signature stays its own delta).
    expect(first.events.map((e) => e.type)).toEqual([
      'thinking_delta',
      'thinking_delta',
      'thinking_delta',
      'text_delta',
      'tool_call_start',
      'tool_call_delta',
      'tool_call_end',
      'usage',
      'done',
    ]);
    expect(first.terminal!.message).toMatchObject({
      provider: 'scripted',
      stop_reason: 'function_call',
      usage: { input_tokens: 12, output_tokens: 7, cache_read_tokens: 3, cache_write_tokens: 0 },
      content: [
        { type: 'thinking', thinking: 'plan', signature: 'sig' },
        { type: 'text', text: 'Reading.' },
        { type: 'function_call', id: 'call_1', name: 'agent_trigger', arguments: { function_id: 'fs::read' } },
      ],
    });

    const second = await stream('thanks');
    expect(second.terminal!.message).toMatchObject({
      stop_reason: 'end',
      content: [{ type: 'text', text: 'All done.' }],
    });
    expect(provider.requests.slice(-2).map((r) => [provider.lastUserText(r), r.system, r.tools?.length])).toEqual([
      ['read the file', 'Be brief.', 1],
      ['thanks', undefined, undefined],
    ]);
    const { requests } = await client.bus.call(scriptedContracts.requests('scripted'), {});
    expect(requests.map((r) => r.request_id)).toEqual(provider.requests.map((r) => r.request_id));
  });

  it('picks a turn by its matcher on the last user message, others in order', async () => {
    provider.script(
      { steps: [{ text: 'first plain' }] },
      { match: /weather/, steps: [{ text: 'sunny' }] },
      { match: (r) => r.model === 'other-model', steps: [{ text: 'by predicate' }] },
      { steps: [{ text: 'second plain' }] },
    );
    expect((await stream('what is the weather?')).terminal!.message.content[0].text).toBe('sunny');
    expect((await stream('hello')).terminal!.message.content[0].text).toBe('first plain');
    expect(
      (await streamFromProvider<Ev>(client.bus, 'scripted', { ...request('x'), model: 'other-model' })).terminal!
        .message.content[0].text,
    ).toBe('by predicate');
    expect((await stream('hello again')).terminal!.message.content[0].text).toBe('second plain');
    expect(provider.pending()).toBe(0);
  });

  it('fails as scripted: before any output, mid-stream with the partial message, or when no turn is left', async () => {
    provider.script(
      { fail: { kind: 'rate_limited', message: 'slow down' } },
      {
        steps: [{ text: 'partial' }, { text: 'never' }],
        fail: { after_steps: 1, message: 'connection reset', kind: 'connection' },
      },
    );
    const before = await stream('a');
    expect(before.events).toEqual([
      { type: 'error', code: 'provider_error', message: 'slow down', retryable: true, reason: 'rate_limited' },
    ]);
    const mid = await stream('b');
    expect(mid.events.map((e) => e.type)).toEqual(['text_delta', 'text_delta', 'error']);
    expect(mid.terminal).toMatchObject({
      message: 'connection reset',
      partial: { content: [{ type: 'text', text: 'partial' }] },
    });
    const none = await stream('c');
    expect(none.terminal).toMatchObject({
      type: 'error',
      code: 'provider_error',
      retryable: false,
      message: expect.stringContaining('no turn'),
    });
  });

  it('queues turns over the bus and answers complete', async () => {
    expect(
      await client.bus.call(scriptedContracts.script('scripted'), {
        turns: [{ match: 'sum', steps: [{ text: '4' }], stop: 'length', raw_stop_reason: 'max_tokens' }],
      }),
    ).toEqual({ pending: 1 });
    const { message } = await client.bus.call(contracts.provider.complete('scripted'), request('sum 2+2'));
    expect(message).toMatchObject({
      content: [{ type: 'text', text: '4' }],
      stop_reason: 'length',
      raw_stop_reason: 'max_tokens',
    });
  });

  it('stops a slow turn on provider::scripted::abort with the partial message', async () => {
    provider.script({ steps: [{ text: 'a very slow answer indeed' }], split: 25, delay_ms: 30 });
    const req = request('slow please');
    const run = openProviderStream<Ev>(client.bus, 'scripted', req);
    await run.waitFor((e) => e.type === 'text_delta');
    const asked = Date.now();
    expect(await client.bus.call(contracts.provider.abort('scripted'), { request_id: req.request_id })).toEqual({
      aborted: true,
    });
    const { terminal } = await run.finished;
    expect(Date.now() - asked).toBeLessThan(500);
    expect(terminal).toMatchObject({ type: 'done', stop_reason: 'aborted' });
    expect(terminal!.message.content[0].text.length).toBeGreaterThan(0);
    expect(terminal!.message.content[0].text.length).toBeLessThan('a very slow answer indeed'.length);
  });

  it('reports its models through refresh_models → models::reconcile', async () => {
    const seen: unknown[] = [];
    const catalog = await startTestWorker(
      {
        name: 'catalog-stand-in',
        description: 'models::reconcile stand-in',
        config: z.object({}),
        register: (w) =>
          w.function(contracts.models.reconcile, ({ provider: id, models }) => {
            seen.push({ provider: id, models });
            return {
              provider: id,
              count: models.length,
              ids: models.map((m) => m.id),
              added: [],
              removed: [],
              updated: [],
            };
          }),
      },
      { url: engine.url },
    );
    try {
      expect(await client.bus.call(contracts.provider.refreshModels('scripted'), {})).toEqual({
        provider: 'scripted',
        count: 1,
        ids: ['scripted-model'],
      });
    } finally {
      await catalog.shutdown();
    }
    expect(seen.at(-1)).toMatchObject({
      provider: 'scripted',
      models: [{ id: 'scripted-model', provider: 'scripted' }],
    });
  });

  it('plays the fallback when no turn is queued, under its own provider id', async () => {
    const other = createScriptedProvider({ id: 'scripted-b', fallback: { steps: [{ text: 'default answer' }] } });
    const started = await startTestWorker(other.spec, { url: engine.url });
    try {
      for (const text of ['one', 'two']) {
        const { terminal } = await streamFromProvider<Ev>(client.bus, 'scripted-b', request(text));
        expect(terminal!.message).toMatchObject({
          provider: 'scripted-b',
          content: [{ type: 'text', text: 'default answer' }],
        });
      }
      expect(other.requests).toHaveLength(2);
    } finally {
      await started.shutdown();
    }
  });

  it.each([
    ['provider::scripted::stream', { request_id: 'r', model: 'm', messages: [] }],
    [
      'provider::scripted::complete',
      { request_id: 'r', model: 'm', messages: [{ role: 'user', content: 'x' }], extra: true },
    ],
    ['provider::scripted::abort', { request_id: '' }],
    ['provider::scripted::refresh_models', { force: true }],
    ['provider::scripted::script', { turns: [{ steps: [{ speak: 'x' }] }] }],
    ['provider::scripted::script', { turns: [] }],
    ['provider::scripted::requests', { all: true }],
  ])('%s rejects %j with invalid_payload and changes nothing', async (id, payload) => {
    const [pending, received] = [provider.pending(), provider.requests.length];
    expect(await codeOf(client.bus.invoke(id, payload))).toBe('invalid_payload');
    expect([provider.pending(), provider.requests.length]).toEqual([pending, received]);
  });
});
