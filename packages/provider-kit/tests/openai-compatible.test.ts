import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Message, type ProviderStreamEvent, providerStreamEvent } from '@iii-harness/types';
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import {
  buildChatCompletionBody,
  type ChatChunk,
  ChatChunkMapper,
  classifyError,
  compatFor,
  createOpenAICompatibleAdapter,
  type ResolvedProvider,
  StreamSink,
  toWireMessages,
  usageFromWire,
} from '../src/index.js';

function recordingSink() {
  const sent: ProviderStreamEvent[] = [];
  const sink = new StreamSink(
    { sendMessage: (m) => void sent.push(providerStreamEvent.parse(JSON.parse(m))), close: () => undefined },
    'p',
    'm',
  );
  return { sent, sink };
}
const delta = (d: Record<string, unknown>, finish: string | null = null): ChatChunk => ({
  choices: [{ index: 0, delta: d, finish_reason: finish }],
});
const call = (index: number | undefined, fields: { id?: string; name?: string; args?: string }): ChatChunk =>
  delta({
    tool_calls: [
      {
        index,
        ...(fields.id !== undefined ? { id: fields.id } : {}),
        function: {
          ...(fields.name !== undefined ? { name: fields.name } : {}),
          ...(fields.args !== undefined ? { arguments: fields.args } : {}),
        },
      },
    ],
  });
const usage = { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 };

describe('toWireMessages', () => {
  const conversation: Message[] = [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'see' },
        { type: 'image', mime_type: 'image/jpeg', data: 'AAA' },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'plan' },
        { type: 'text', text: 'Calling.' },
        { type: 'function_call', id: 'functions.read:0', name: 'read', arguments: { p: 1 } },
      ],
      provider: 'kimi',
      model: 'k',
      usage,
      stop_reason: 'function_call',
    },
    {
      role: 'function_result',
      function_call_id: 'functions.read:0',
      function_id: 'fs::read',
      content: [
        { type: 'text', text: 'body' },
        { type: 'image', mime_type: 'image/png', data: 'BBB' },
      ],
      is_error: false,
    },
    { role: 'assistant', content: [], provider: 'kimi', model: 'k', usage, stop_reason: 'aborted' },
    { role: 'user', content: 'next' },
  ];

  it('maps turns, echoes call ids, re-sends thinking only where asked, and moves result images after the tool messages', () => {
    const wire = toWireMessages(conversation, 'sys', compatFor({ sendReasoningContent: true }, 'k'));
    expect(wire).toEqual([
      { role: 'system', content: 'sys' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'see' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAA' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Calling.',
        reasoning_content: 'plan',
        tool_calls: [{ id: 'functions.read:0', type: 'function', function: { name: 'read', arguments: '{"p":1}' } }],
      },
      { role: 'tool', tool_call_id: 'functions.read:0', content: 'body\n[image image/png]' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Images returned by the function calls above:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,BBB' } },
        ],
      },
      { role: 'user', content: 'next' },
    ]);
    const plain = toWireMessages(
      conversation,
      undefined,
      compatFor({ supportsImages: false, toolCallIdFormat: 'openai' }, 'm'),
    );
    expect(plain[1]).not.toHaveProperty('reasoning_content');
    expect((plain[0] as { content: Array<{ text?: string }> }).content[1]!.text).toContain('omitted');
    expect((plain[1] as { tool_calls: Array<{ id: string }> }).tool_calls[0]!.id).toMatch(/^call_/);
    expect((plain[2] as { tool_call_id: string }).tool_call_id).toBe(
      (plain[1] as { tool_calls: Array<{ id: string }> }).tool_calls[0]!.id,
    );
  });

  it('sends an empty reasoning_content on a tool-call turn that kept no thinking (thinking models require the key)', () => {
    const turn: Message = {
      role: 'assistant',
      content: [{ type: 'function_call', id: 'c1', name: 'f', arguments: {} }],
      provider: 'x',
      model: 'y',
      usage,
      stop_reason: 'function_call',
    };
    expect(toWireMessages([turn], undefined, compatFor({ sendReasoningContent: true }, 'k'))[0]).toMatchObject({
      content: null,
      reasoning_content: '',
    });
  });
});

describe('buildChatCompletionBody', () => {
  const request = {
    request_id: 'r',
    model: 'm',
    messages: [{ role: 'user' as const, content: 'hi' }],
    temperature: 0.5,
  };
  it('follows the compat flags', () => {
    expect(buildChatCompletionBody(request, compatFor({}, 'm'), 512)).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 512,
      temperature: 0.5,
    });
    const reasoning = compatFor(
      {
        maxTokensField: 'max_completion_tokens',
        supportsUsageInStreaming: false,
        supportsTemperature: false,
        supportsReasoningEffort: true,
      },
      'm',
    );
    expect(
      buildChatCompletionBody({ ...request, thinking: { enabled: true, budget_tokens: 30_000 } }, reasoning, 512),
    ).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      max_completion_tokens: 512,
      reasoning_effort: 'high',
    });
    expect(buildChatCompletionBody({ ...request, thinking: { enabled: false } }, reasoning, 512)).not.toHaveProperty(
      'reasoning_effort',
    );
  });
});

describe('ChatChunkMapper', () => {
  it('assembles interleaved parallel calls and maps tool_calls', () => {
    const { sent, sink } = recordingSink();
    const mapper = new ChatChunkMapper(sink);
    for (const chunk of [
      delta({ role: 'assistant', content: '' }),
      delta({ content: 'Go' }),
      call(0, { id: 'a', name: 'f', args: '' }),
      call(1, { id: 'b', name: 'g', args: '' }),
      call(0, { args: '{"x":' }),
      call(1, { args: '{"y":2}' }),
      call(0, { args: '1}' }),
      delta({}, 'tool_calls'),
    ])
      mapper.push(chunk);
    expect(mapper.finish()).toEqual({ stop_reason: 'function_call' });
    expect(sent.filter((e) => e.type === 'tool_call_end')).toEqual([
      { type: 'tool_call_end', content_index: 1, id: 'a', arguments: { x: 1 } },
      { type: 'tool_call_end', content_index: 2, id: 'b', arguments: { y: 2 } },
    ]);
  });

  it('survives LM Studio and llama.cpp quirks: empty or repeated names, args before the name, no id, one index for all calls, absurd indexes', () => {
    const { sent, sink } = recordingSink();
    const mapper = new ChatChunkMapper(sink);
    const chunks = [
      call(0, { args: '{"early":' }), // arguments before the id and name
      call(0, { id: 'first', name: 'f', args: 'true}' }),
      call(0, { name: '', args: '' }), // LM Studio: empty name later
      call(0, { id: 'first', name: 'f', args: '' }), // llama.cpp: id and name repeated
      call(0, { id: 'second', name: 'g', args: '{"n":' }), // a server numbering every call 0
      call(99_999, { args: '2}' }), // absurd index folds into the latest call
      call(1, { name: 'h', args: '{}' }), // no id at all
      delta({}, 'stop'),
    ];
    for (const chunk of chunks) mapper.push(chunk);
    expect(mapper.finish()).toEqual({ stop_reason: 'function_call', raw_stop_reason: 'stop' });
    const starts = sent.filter((e) => e.type === 'tool_call_start') as Array<{ id: string; name: string }>;
    expect(starts.map((s) => [s.id, s.name])).toEqual([
      ['first', 'f'],
      ['second', 'g'],
      [expect.stringMatching(/^call_/), 'h'],
    ]);
    expect(sent.filter((e) => e.type === 'tool_call_end').map((e) => (e as { arguments: unknown }).arguments)).toEqual([
      { early: true },
      { n: 2 },
      {},
    ]);
  });

  it('takes reasoning from reasoning_content or reasoning, and usage from a choice (Moonshot) with cached tokens', () => {
    const { sent, sink } = recordingSink();
    const mapper = new ChatChunkMapper(sink, { input: 1, output: 2, cache_read: 0.1, cache_write: 0 });
    mapper.push(delta({ reasoning_content: 'a' }));
    mapper.push(delta({ reasoning: 'b' }));
    mapper.push(delta({ content: 'c' }));
    mapper.push({
      choices: [
        {
          index: 0,
          delta: {},
          finish_reason: 'length',
          usage: { prompt_tokens: 1_000_000, completion_tokens: 10, cached_tokens: 400_000 },
        },
      ],
    });
    expect(mapper.finish()).toEqual({ stop_reason: 'length' });
    expect(sent.map((e) => e.type)).toEqual(['thinking_delta', 'thinking_delta', 'text_delta', 'usage']); // 'b' merged nowhere: the block changed
    expect(
      sent.filter((e) => e.type === 'thinking_delta').map((e) => [e.content_index, (e as { delta: string }).delta]),
    ).toEqual([
      [0, 'a'],
      [0, 'b'],
    ]);
    expect(sent.at(-1)).toEqual({
      type: 'usage',
      usage: {
        input_tokens: 600_000,
        output_tokens: 10,
        cache_read_tokens: 400_000,
        cache_write_tokens: 0,
        cost_usd: expect.closeTo(0.64002, 5),
      },
    });
  });

  it('hands every delta to the sink, which coalesces a burst and sends paced deltas one by one', async () => {
    const { sent, sink } = recordingSink();
    const mapper = new ChatChunkMapper(sink);
    for (const piece of ['a', 'b', 'c']) mapper.push(delta({ content: piece }));
    await new Promise((resolve) => setImmediate(resolve));
    mapper.push(delta({ content: 'd' }));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    mapper.push(delta({ reasoning_content: 'e' }));
    mapper.push(delta({ content: 'f' }));
    mapper.push(delta({}, 'stop'));
    mapper.finish();
    sink.done('end');
    expect(sent.map((e) => [e.type, (e as { delta?: string }).delta])).toEqual([
      ['text_delta', 'a'],
      ['text_delta', 'bc'],
      ['text_delta', 'd'],
      ['thinking_delta', 'e'],
      ['text_delta', 'f'],
      ['done', undefined],
    ]);
  });

  it('maps every finish_reason without throwing', () => {
    const reasons: Array<[string, unknown]> = [
      ['stop', { stop_reason: 'end' }],
      ['length', { stop_reason: 'length' }],
      ['function_call', { stop_reason: 'function_call' }],
      [
        'content_filter',
        { stop_reason: 'refusal', raw_stop_reason: 'content_filter', stop_details: { type: 'content_filter' } },
      ],
      ['end', { stop_reason: 'end', raw_stop_reason: 'end' }],
      ['insufficient_system_resource', { stop_reason: 'other', raw_stop_reason: 'insufficient_system_resource' }],
    ];
    for (const [raw, expected] of reasons) {
      const mapper = new ChatChunkMapper(recordingSink().sink);
      mapper.push(delta({ content: 'x' }, raw));
      expect(mapper.finish()).toEqual(expected);
    }
  });

  it('makes a refusal its own stop reason with the words as details, and url_citation annotations citations', async () => {
    const mapper = new ChatChunkMapper(recordingSink().sink);
    mapper.push(delta({ refusal: "I'm sorry, " }));
    mapper.push(delta({ refusal: 'I cannot help with that.' }, 'stop'));
    expect(mapper.finish()).toEqual({
      stop_reason: 'refusal',
      raw_stop_reason: 'stop',
      stop_details: { type: 'refusal', explanation: "I'm sorry, I cannot help with that." },
    });

    const { sent, sink } = recordingSink();
    const cited = new ChatChunkMapper(sink);
    cited.push(delta({ content: 'Rain today.' }));
    cited.push(
      delta({
        annotations: [
          {
            type: 'url_citation',
            url_citation: { url: 'https://w.example', title: 'W', start_index: 0, end_index: 10 },
          },
          { type: 'file_path' },
        ],
      }),
    );
    cited.push(delta({}, 'stop'));
    cited.finish();
    const message = sink.done('end');
    expect(message.content.at(-1)).toEqual({
      type: 'text',
      text: 'Rain today.',
      citations: [{ type: 'url_citation', url: 'https://w.example', title: 'W', start_index: 0, end_index: 10 }],
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.filter((e) => e.type === 'warning')).toEqual([
      { type: 'warning', code: 'unsupported_delta', feature: 'annotation:file_path', message: expect.any(String) },
    ]);
  });

  it('reads OpenAI usage: prompt_tokens include the cached ones', () => {
    expect(
      usageFromWire({
        prompt_tokens: 100,
        completion_tokens: 30,
        prompt_tokens_details: { cached_tokens: 60 },
        completion_tokens_details: { reasoning_tokens: 20 },
      }),
    ).toEqual({
      input_tokens: 40,
      output_tokens: 30,
      cache_read_tokens: 60,
      cache_write_tokens: 0,
      reasoning_tokens: 20,
    });
  });

  it('adds reasoning to output when a server counts it beside completion_tokens (xAI), and only then', () => {
    const base = { prompt_tokens: 32, completion_tokens: 2, completion_tokens_details: { reasoning_tokens: 340 } };
    expect(usageFromWire({ ...base, total_tokens: 374 }).output_tokens).toBe(342);
    expect(usageFromWire(base).output_tokens).toBe(342); // more reasoning than completion: cannot be inside it
    const openai = { prompt_tokens: 32, completion_tokens: 345, completion_tokens_details: { reasoning_tokens: 340 } };
    expect(usageFromWire({ ...openai, total_tokens: 377 }).output_tokens).toBe(345);
    expect(usageFromWire(openai).output_tokens).toBe(345);
  });
});

describe('classifyError with the openai SDK', () => {
  it('recognises its connection, timeout and abort errors (their name is plain "Error")', () => {
    expect(classifyError(new APIConnectionError({ message: undefined, cause: new Error('fetch failed') })).kind).toBe(
      'connection',
    );
    expect(classifyError(new APIConnectionTimeoutError({ message: undefined })).kind).toBe('timeout');
    expect(classifyError(new APIUserAbortError()).kind).toBe('aborted');
  });
});

describe('createOpenAICompatibleAdapter over HTTP', () => {
  let server: Server;
  let url = '';
  const seen: IncomingMessage[] = [];
  let reply: (write: (s: string) => void) => void = () => undefined;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        reply((s) => res.write(s));
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const settings = (token?: string): ResolvedProvider => ({
    provider: 'local',
    kind: 'local',
    api_url: url,
    max_tokens: 100,
    credential: token ? { configured: true, source: 'stored', token } : { configured: false, source: 'none' },
  });
  const run = (placeholder?: string, token?: string) => {
    const { sink, sent } = recordingSink();
    const adapter = createOpenAICompatibleAdapter({
      provider: 'local',
      modelDefaults: { context_window: 1, max_output_tokens: 1, capabilities: [] },
      ...(placeholder ? { placeholderApiKey: placeholder } : {}),
    });
    const logger = { warn: () => undefined } as never;
    return {
      sent,
      outcome: adapter.stream(
        { request_id: 'r', model: 'm', messages: [{ role: 'user', content: 'hi' }] },
        { settings: settings(token), sink, signal: new AbortController().signal, started: () => undefined, logger },
      ),
    };
  };

  it('treats a stream that ends without a finish_reason as a failure, not a success', async () => {
    reply = (write) => write(`data: ${JSON.stringify(delta({ content: 'cut' }))}\n\n`);
    await expect(run().outcome).rejects.toMatchObject({
      kind: 'connection',
      message: expect.stringContaining('finish_reason'),
    });
  });

  it('accepts a stream cut after the finish_reason and sends no Authorization without a key', async () => {
    reply = (write) => write(`data: ${JSON.stringify(delta({ content: 'whole' }, 'stop'))}\n\n`);
    await expect(run().outcome).resolves.toEqual({ stop_reason: 'end' });
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();
    await run('lm-studio').outcome;
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer lm-studio');
    await run('lm-studio', 'real-key-123456').outcome;
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer real-key-123456');
  });
});
