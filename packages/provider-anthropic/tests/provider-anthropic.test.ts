import {
  type AnthropicScenario,
  DEFAULT_FAKE_ANTHROPIC_MODELS,
  eventually,
  type FakeAnthropicServer,
  type ProviderEvent,
  type ProviderFixture,
  startFakeAnthropic,
  startProviderFixture,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { providerAnthropicWorker } from '../src/index.js';

const TOKEN = 'sk-ant-api03-test-9c4e1b7a2f6d8e30';
let fake: FakeAnthropicServer;
let f: ProviderFixture;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: TOKEN });
  f = await startProviderFixture({
    providerId: 'anthropic',
    spec: providerAnthropicWorker,
    fake,
    apiUrl: fake.url,
    token: TOKEN,
    model: 'claude-haiku-4-5',
    config: { base_url: fake.url, retry_base_delay_ms: 1, retry_max_delay_ms: 5 },
  });
});

afterAll(() => f?.close());

const complete = contracts.provider.complete('anthropic');
const abort = contracts.provider.abort('anthropic');

type Ev = ProviderEvent & {
  content_index?: number;
  delta?: string;
  signature?: string;
  id?: string;
  name?: string;
  arguments?: unknown;
  usage?: Record<string, number>;
  message?: any;
  code?: string;
  retryable?: boolean;
};
const ofType = (events: ProviderEvent[], type: string) => events.filter((e) => e.type === type) as Ev[];
const messageRequests = () => fake.requestsTo('/v1/messages');
const lastBody = () => messageRequests().at(-1)!.body as Record<string, any>;
const play = (scenario: AnthropicScenario, overrides?: Record<string, unknown>) => {
  fake.enqueue(scenario);
  return f.stream(overrides) as Promise<{ events: Ev[]; terminal?: Ev; result?: { stop_reason: string } }>;
};
const tools = [
  {
    name: 'agent_trigger',
    description: 'Call a bus function',
    parameters: { type: 'object', properties: { function_id: { type: 'string' } } },
  },
];
const EVENT_TYPES = new Set([
  'text_delta',
  'thinking_delta',
  'tool_call_start',
  'tool_call_delta',
  'tool_call_end',
  'usage',
  'content_block',
  'citation',
  'warning',
  'done',
  'error',
]);

describe('provider-anthropic: surface', () => {
  it('declares itself to harness::provider::register as a cloud provider keyed by ANTHROPIC_API_KEY', async () => {
    await eventually(() => expect(f.declarations).toHaveLength(1));
    expect(f.declarations[0]).toMatchObject({
      id: 'anthropic',
      display_name: 'Anthropic',
      credential_env_var: 'ANTHROPIC_API_KEY',
      default_url: fake.url,
      default_max_tokens: 8192,
      supports_model_listing: true,
      kind: 'cloud',
    });
    const { providers } = await f.call(contracts.harness.providerList, {});
    expect(providers.map((p) => p.id)).toContain('anthropic');
  });

  it('documents every function in engine::functions::info', async () => {
    for (const name of ['stream', 'complete', 'abort', 'refresh_models']) {
      const info = (await f.call(contracts.engine.functionsInfo, { function_id: `provider::anthropic::${name}` })) as {
        description: unknown;
        request_schema: unknown;
        response_schema: unknown;
      };
      expect(info.description).toEqual(expect.any(String));
      expect(info.request_schema).toMatchObject({ type: 'object' });
      expect(info.response_schema).toMatchObject({ type: 'object' });
    }
  });

  it('fills the catalog through models::reconcile at start and on refresh_models, with limits and prices', async () => {
    await eventually(() => expect(f.reconciles.length).toBeGreaterThan(0));
    const result = await f.call(contracts.provider.refreshModels('anthropic'), {});
    expect(result).toEqual({
      provider: 'anthropic',
      count: 4,
      ids: DEFAULT_FAKE_ANTHROPIC_MODELS.map((m) => m.id).sort(),
    });
    const sonnet = f.reconciles.at(-1)!.models.find((m) => m.id === 'claude-sonnet-4-5-20250929');
    expect(sonnet).toEqual({
      id: 'claude-sonnet-4-5-20250929',
      provider: 'anthropic',
      display_name: 'Claude Sonnet 4.5',
      context_window: 200_000,
      max_output_tokens: 64_000,
      capabilities: ['tools', 'images', 'prompt_caching', 'streaming', 'thinking'],
      pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
    });
  });

  it.each([
    ['provider::anthropic::stream', { request_id: 'r', model: 'm', messages: [] }],
    [
      'provider::anthropic::stream',
      { request_id: 'r', model: 'm', messages: [{ role: 'user', content: 'x' }], channel: { nope: true } },
    ],
    [
      'provider::anthropic::stream',
      {
        request_id: 'r',
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ name: 'bad name!', description: '', parameters: {} }],
      },
    ],
    [
      'provider::anthropic::complete',
      { request_id: 'r', model: 'm', messages: [{ role: 'user', content: 'x' }], surprise: 1 },
    ],
    ['provider::anthropic::abort', {}],
    ['provider::anthropic::refresh_models', { provider: 'other' }],
  ])('%s rejects %j with invalid_payload and sends nothing upstream', async (id, payload) => {
    const requests = fake.requests.length;
    const reconciles = f.reconciles.length;
    await expect(f.invoke(id, payload)).rejects.toMatchObject({ code: 'invalid_payload' });
    expect(fake.requests.length).toBe(requests);
    expect(f.reconciles.length).toBe(reconciles);
  });
});

describe('provider-anthropic: streaming', () => {
  it('streams text as ordered deltas and a final message; sends system, cache breakpoints, key and version', async () => {
    // Paced like a vendor: deltas read in one event-loop turn are coalesced by the sink, paced ones are not.
    const { events, terminal, result } = await play({
      steps: [{ text: 'Hello there, how can I help you today?' }],
      split: 6,
      event_delay_ms: 2,
    });
    const deltas = ofType(events, 'text_delta');
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.map((d) => d.delta).join('')).toBe('Hello there, how can I help you today?');
    expect(events.every((e) => EVENT_TYPES.has(e.type))).toBe(true); // ping and message_stop stay upstream
    expect(terminal).toBe(events.at(-1));
    expect(terminal!.message).toMatchObject({
      role: 'assistant',
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      stop_reason: 'end',
      content: [{ type: 'text', text: 'Hello there, how can I help you today?' }],
    });
    expect(result?.stop_reason).toBe('end');

    const request = messageRequests().at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['anthropic-version']).toEqual(expect.any(String));
    expect(request.body).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4096,
      stream: true,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Say hello.', cache_control: { type: 'ephemeral' } }] },
      ],
    });
  });

  it('assembles several tool calls from many input_json_delta pieces and sends calls and results back', async () => {
    const args = [
      { function_id: 'fs::read', payload: { path: 'README.md', lines: [1, 40] } },
      { function_id: 'fs::read', payload: { path: 'docs/a "quoted" name.md' } },
    ];
    const { events, terminal } = await play(
      {
        steps: [
          { text: 'Reading both.' },
          { tool_call: { name: 'agent_trigger', arguments: args[0]! } },
          { tool_call: { name: 'agent_trigger', arguments: args[1]! } },
        ],
        split: 8,
        event_delay_ms: 1,
      },
      { tools },
    );
    const starts = ofType(events, 'tool_call_start');
    expect(starts.map((s) => [s.content_index, s.name])).toEqual([
      [1, 'agent_trigger'],
      [2, 'agent_trigger'],
    ]);
    expect(ofType(events, 'tool_call_delta').length).toBeGreaterThanOrEqual(6); // 16 pieces, paced: several events
    expect(ofType(events, 'tool_call_end').map((e) => e.arguments)).toEqual(args);
    expect(terminal!.message.stop_reason).toBe('function_call');
    expect(terminal!.message.content.slice(1)).toEqual(
      starts.map((s, i) => ({ type: 'function_call', id: s.id, name: 'agent_trigger', arguments: args[i] })),
    );
    expect(lastBody().tools).toEqual([
      {
        name: 'agent_trigger',
        description: 'Call a bus function',
        input_schema: tools[0]!.parameters,
        cache_control: { type: 'ephemeral' },
      },
    ]);

    const results = starts.map((s) => ({
      role: 'function_result',
      function_call_id: s.id,
      function_id: 'fs::read',
      content: [{ type: 'text', text: `result of ${s.id}` }],
      is_error: false,
    }));
    await play(
      { steps: [{ text: 'Done.' }] },
      { tools, messages: [{ role: 'user', content: 'Read them.' }, terminal!.message, ...results] },
    );
    const [, assistant, user] = lastBody().messages as Array<{ role: string; content: any[] }>;
    expect(assistant!.content.slice(1)).toEqual(
      starts.map((s, i) => ({ type: 'tool_use', id: s.id, name: 'agent_trigger', input: args[i] })),
    );
    expect(user!.content.map((b) => [b.type, b.tool_use_id, b.content[0].text])).toEqual(
      starts.map((s) => ['tool_result', s.id, `result of ${s.id}`]),
    );
  });

  it('streams thinking with its signature and sends signed and redacted thinking back unchanged', async () => {
    const signature = 'EuYBCkQYAiJAgCs1le6/Pol5Z4/JMomVOouGrWdhYNsH3ukzUECbB6iWrSQtsQuRHJID6lWV==';
    const { events, terminal } = await play(
      {
        steps: [
          { thinking: 'The user wants the file; call the tool.', signature },
          { redacted_thinking: 'ENCRYPTED-REASONING==' },
          { tool_call: { name: 'agent_trigger', arguments: { function_id: 'fs::read' } } },
        ],
        split: 4,
      },
      { tools, thinking: { enabled: true, budget_tokens: 2048 } },
    );
    expect(lastBody()).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 }, max_tokens: 4096 });
    const thinking = ofType(events, 'thinking_delta');
    expect(
      thinking
        .filter((t) => t.content_index === 0)
        .map((t) => t.delta)
        .join(''),
    ).toBe('The user wants the file; call the tool.');
    expect(thinking.find((t) => t.signature === signature)).toBeDefined();
    const message = terminal!.message;
    expect(message.content.slice(0, 2)).toEqual([
      { type: 'thinking', thinking: 'The user wants the file; call the tool.', signature },
      { type: 'thinking', thinking: '', signature: 'ENCRYPTED-REASONING==', redacted: true },
    ]);

    const call = message.content[2];
    const result = {
      role: 'function_result',
      function_call_id: call.id,
      function_id: 'fs::read',
      content: [{ type: 'text', text: 'contents' }],
      is_error: false,
    };
    await play(
      { steps: [{ text: 'Here it is.' }] },
      {
        tools,
        thinking: { enabled: true, budget_tokens: 2048 },
        messages: [{ role: 'user', content: 'Read it.' }, message, result],
      },
    );
    const assistant = (lastBody().messages as Array<{ role: string; content: unknown[] }>)[1]!;
    expect(assistant.content).toEqual([
      { type: 'thinking', thinking: 'The user wants the file; call the tool.', signature },
      { type: 'redacted_thinking', data: 'ENCRYPTED-REASONING==' },
      { type: 'tool_use', id: call.id, name: 'agent_trigger', input: { function_id: 'fs::read' } },
    ]);
  });

  it('merges usage from message_start and message_delta, with cache read and write tokens', async () => {
    const { events, terminal } = await play({
      steps: [{ text: 'ok' }],
      usage: { input: 120, output: 45, cache_read: 80, cache_write: 30 },
    });
    const usage = ofType(events, 'usage').map((e) => e.usage);
    expect(usage[0]).toEqual({ input_tokens: 120, output_tokens: 1, cache_read_tokens: 80, cache_write_tokens: 30 });
    expect(usage.at(-1)).toEqual({
      input_tokens: 120,
      output_tokens: 45,
      cache_read_tokens: 80,
      cache_write_tokens: 30,
    });
    expect(terminal!.message.usage).toEqual({
      input_tokens: 120,
      output_tokens: 45,
      cache_read_tokens: 80,
      cache_write_tokens: 30,
    });
  });

  it('maps every Anthropic stop reason', async () => {
    const table: Array<[AnthropicScenario['stop'], string, string | undefined]> = [
      ['end', 'end', undefined],
      ['length', 'length', undefined],
      ['tool_calls', 'function_call', undefined],
      ['stop_sequence', 'end', 'stop_sequence'],
      ['refusal', 'refusal', undefined],
      [{ raw: 'pause_turn' }, 'other', 'pause_turn'],
      [{ raw: 'model_context_window_exceeded' }, 'length', 'model_context_window_exceeded'],
      [{ raw: 'brand_new_reason' }, 'other', 'brand_new_reason'],
    ];
    for (const [stop, expected, raw] of table) {
      const steps =
        stop === 'tool_calls' ? [{ tool_call: { name: 'agent_trigger', arguments: {} } }] : [{ text: 'text' }];
      const { terminal } = await play({ steps, stop });
      expect([JSON.stringify(stop), terminal?.message?.stop_reason, terminal?.message?.raw_stop_reason]).toEqual([
        JSON.stringify(stop),
        expected,
        raw,
      ]);
    }
  });

  it('complete returns the final message', async () => {
    fake.enqueue({ steps: [{ text: 'complete answer' }] });
    const { message } = await f.call(complete, f.request() as never);
    expect(message).toMatchObject({ content: [{ type: 'text', text: 'complete answer' }], stop_reason: 'end' });
  });
});

describe('provider-anthropic: server tools, citations, refusals', () => {
  const searchId = 'srvtoolu_014hJH82Qum7Td6UV8gDXThB';
  const hits = [
    {
      type: 'web_search_result',
      title: 'Paris weather today',
      url: 'https://weather.example/paris',
      encrypted_content: 'EqgfCioIARgBIiQ3YTAwMjY1Mi1hZjM0LTQ2OTAtYmQ0Ni02ZmQ5ZDVkZjdjZGQ',
      page_age: '2 hours ago',
    },
  ];
  const webCitation = {
    type: 'web_search_result_location',
    url: 'https://weather.example/paris',
    title: 'Paris weather today',
    encrypted_index: 'Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNmQ5LTQ3NzAtOWU5Mi1lMmU2YzQ4Y2EwMzM',
    cited_text: 'Currently 18°C and sunny in Paris',
  };
  const docCitation = {
    type: 'char_location',
    cited_text: 'The grass is green.',
    document_index: 0,
    document_title: 'Facts',
    start_char_index: 0,
    end_char_index: 19,
    file_id: null,
  };

  it('keeps web search use, its results and cited text as typed blocks, and sends them back as Anthropic wants', async () => {
    const { events, terminal } = await play({
      steps: [
        { text: "I'll search for that." },
        { server_tool_use: { id: searchId, name: 'web_search', input: { query: 'weather Paris today' } } },
        { server_tool_result: { type: 'web_search_tool_result', tool_use_id: searchId, content: hits } },
        { text: 'It is 18°C and sunny.', citations: [webCitation, docCitation] },
      ],
      stop: 'end',
    });
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
    expect(ofType(events, 'citation')).toHaveLength(2);
    const message = terminal!.message;
    expect(message.content).toEqual([
      { type: 'text', text: "I'll search for that." },
      { type: 'server_tool_use', id: searchId, name: 'web_search', input: { query: 'weather Paris today' } },
      { type: 'server_tool_result', tool_use_id: searchId, result_type: 'web_search_tool_result', content: hits },
      {
        type: 'text',
        text: 'It is 18°C and sunny.',
        citations: [
          {
            type: 'web_search_result_location',
            url: webCitation.url,
            title: webCitation.title,
            cited_text: webCitation.cited_text,
            vendor: webCitation,
          },
          {
            type: 'char_location',
            title: 'Facts',
            cited_text: 'The grass is green.',
            vendor: { ...docCitation, file_id: undefined },
          },
        ],
      },
    ]);
    expect(message.stop_reason).toBe('end');

    // The next request carries the blocks back; the fake refuses results without their use and
    // citations with response-only fields, as Anthropic does.
    const { terminal: next } = await play(
      { steps: [{ text: 'You are welcome.' }] },
      { messages: [{ role: 'user', content: 'Weather in Paris?' }, message, { role: 'user', content: 'Thanks!' }] },
    );
    expect(next?.type).toBe('done');
    const { file_id: _fileId, ...docParam } = docCitation;
    expect((lastBody().messages as Array<{ content: unknown }>)[1]!.content).toEqual([
      { type: 'text', text: "I'll search for that." },
      { type: 'server_tool_use', id: searchId, name: 'web_search', input: { query: 'weather Paris today' } },
      { type: 'web_search_tool_result', tool_use_id: searchId, content: hits },
      { type: 'text', text: 'It is 18°C and sunny.', citations: [webCitation, docParam] },
    ]);
  });

  it('marks a server tool error result, and never replays server blocks to another vendor', async () => {
    const errorContent = { type: 'web_fetch_tool_result_error', error_code: 'url_not_accessible' };
    const { terminal } = await play({
      steps: [
        { server_tool_use: { id: 'srvtoolu_fetch1', name: 'web_fetch', input: { url: 'https://gone.example' } } },
        {
          server_tool_result: { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_fetch1', content: errorContent },
        },
        { text: 'That page is not reachable.' },
      ],
    });
    expect(terminal!.message.content[1]).toEqual({
      type: 'server_tool_result',
      tool_use_id: 'srvtoolu_fetch1',
      result_type: 'web_fetch_tool_result',
      content: errorContent,
      is_error: true,
    });
    const foreign = { ...terminal!.message, provider: 'other-vendor' };
    await play(
      { steps: [{ text: 'ok' }] },
      { messages: [{ role: 'user', content: 'Fetch it.' }, foreign, { role: 'user', content: 'ok?' }] },
    );
    expect((lastBody().messages as Array<{ content: unknown }>)[1]!.content).toEqual([
      { type: 'text', text: 'That page is not reachable.' },
    ]);
  });

  it('makes a refusal its own stop reason, with the category and explanation Anthropic gave', async () => {
    const details = {
      type: 'refusal',
      category: 'cyber',
      explanation: 'This request could enable malware development.',
    };
    const { terminal, result } = await play({
      steps: [{ text: "I can't help with that." }],
      stop: 'refusal',
      stop_details: details,
    });
    expect(terminal).toMatchObject({ type: 'done', stop_reason: 'refusal', message: { stop_details: details } });
    expect(terminal!.message).not.toHaveProperty('raw_stop_reason');
    expect(result?.stop_reason).toBe('refusal');
  });
});

describe('provider-anthropic: failures', () => {
  it('fails a 401 at once with one error event, without retrying', async () => {
    const before = messageRequests().length;
    const { events, terminal } = await play({ http_error: { status: 401 } });
    expect(events).toHaveLength(1);
    expect(terminal).toMatchObject({ type: 'error', code: 'provider_error', retryable: false });
    expect(terminal!.message).toContain('authentication_error');
    expect(messageRequests().length - before).toBe(1);
  });

  it('a 401 body that echoes the key never carries it to the caller', async () => {
    const body = { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${TOKEN}` } };
    const { terminal } = await play({ http_error: { status: 401, body } });
    expect(terminal).toMatchObject({ type: 'error', reason: 'auth', message: expect.stringContaining('[redacted]') });
    expect(JSON.stringify(terminal)).not.toContain(TOKEN);
    fake.enqueue({ http_error: { status: 401, body } });
    const error = await f.call(complete, f.request() as never).catch((e: Error) => e);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('retries a 429 after its retry-after', async () => {
    const before = messageRequests().length;
    fake.enqueue({ http_error: { status: 429, headers: { 'retry-after': '0.25' } } });
    const started = Date.now();
    const { terminal } = await play({ steps: [{ text: 'after the wait' }] });
    expect(terminal?.type).toBe('done');
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(messageRequests().length - before).toBe(2);
  });

  it.each([529, 500])('retries a %i before the first byte', async (status) => {
    const before = messageRequests().length;
    fake.enqueue({ http_error: { status } });
    const { events, terminal } = await play({ steps: [{ text: 'second time lucky' }] });
    expect(terminal?.type).toBe('done');
    expect(
      ofType(events, 'text_delta')
        .map((d) => d.delta)
        .join(''),
    ).toBe('second time lucky');
    expect(messageRequests().length - before).toBe(2);
  });

  it('ends an error event mid-stream with one error event and no retry', async () => {
    const before = messageRequests().length;
    const { events, terminal } = await play({
      steps: [{ text: 'partial answer' }, { text: 'never sent' }],
      error_mid_stream: { after_steps: 1, message: 'Overloaded', type: 'overloaded_error' },
    });
    expect(ofType(events, 'error')).toHaveLength(1);
    expect(ofType(events, 'done')).toHaveLength(0);
    expect(terminal).toBe(events.at(-1));
    expect(terminal).toMatchObject({
      code: 'provider_error',
      message: expect.stringContaining('overloaded_error'),
      partial: { content: [{ type: 'text', text: 'partial answer' }] },
    });
    expect(messageRequests().length - before).toBe(1);
  });

  it('recognises "prompt is too long" (HTTP 400 and a stream error event) as context_overflow, never retried', async () => {
    const before = messageRequests().length;
    const tooLong = 'prompt is too long: 208310 tokens > 200000 maximum';
    const { terminal } = await play({
      http_error: { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: tooLong } } },
    });
    expect(terminal).toMatchObject({
      type: 'error',
      code: 'provider_error',
      reason: 'context_overflow',
      retryable: false,
    });
    expect(messageRequests().length - before).toBe(1);
    fake.enqueue({
      http_error: { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: tooLong } } },
    });
    await expect(f.call(complete, f.request() as never)).rejects.toMatchObject({
      code: 'provider_error',
      reason: 'context_overflow',
      retryable: false,
    });
    const midStream = await play({
      steps: [{ text: 'partial' }],
      error_mid_stream: { after_steps: 1, message: tooLong, type: 'invalid_request_error' },
    });
    expect(midStream.terminal).toMatchObject({ type: 'error', reason: 'context_overflow', retryable: false });
  });

  it('ends a connection cut mid-stream with one error event and no retry', async () => {
    const before = messageRequests().length;
    const { events, terminal } = await play({
      steps: [{ text: 'cut short' }, { text: 'never sent' }],
      drop_after_steps: 1,
    });
    expect(ofType(events, 'error')).toHaveLength(1);
    expect(terminal).toMatchObject({
      type: 'error',
      retryable: true,
      message: expect.stringContaining('Anthropic connection failed'),
      partial: { content: [{ type: 'text', text: 'cut short' }] },
    });
    expect(messageRequests().length - before).toBe(1);
  });

  // The ≤ 100 ms target is measured by bench/provider-stream (abort mode); a timing assertion here
  // would fail on a loaded CI machine. The stream would run 4 s: closing within 1 s proves the abort.
  it('abort closes the upstream connection long before the stream ends and ends with the partial message', async () => {
    fake.enqueue({
      steps: [{ text: 'a slow answer that goes on and on and on and on and on and on and on and on' }],
      split: 100,
      event_delay_ms: 40,
    });
    const request = f.request();
    const run = f.open(request);
    await run.waitFor((e) => e.type === 'text_delta');
    const abortsBefore = fake.clientAborts.length;
    const asked = Date.now();
    expect(await f.call(abort, { request_id: String(request.request_id) })).toEqual({ aborted: true });
    await eventually(() => expect(fake.clientAborts.length).toBeGreaterThan(abortsBefore), {
      timeoutMs: 1_000,
      intervalMs: 5,
    });
    expect(fake.clientAborts.at(-1)! - asked).toBeLessThan(1_000);
    const { terminal } = await run.finished;
    expect(terminal).toMatchObject({ type: 'done', stop_reason: 'aborted' });
    expect((terminal as Ev).message.content[0].text.length).toBeGreaterThan(0);
    expect(await f.call(abort, { request_id: String(request.request_id) })).toEqual({ aborted: false });
  });

  it('a missing credential is a provider_error naming ANTHROPIC_API_KEY, with or without a harness', async () => {
    const before = fake.requests.length;
    const saved = process.env.ANTHROPIC_API_KEY;
    f.setToken(undefined);
    try {
      const { terminal } = await f.stream();
      expect(terminal).toMatchObject({
        type: 'error',
        code: 'provider_error',
        retryable: false,
        message: expect.stringContaining('ANTHROPIC_API_KEY'),
      });
      await expect(f.call(complete, f.request() as never)).rejects.toMatchObject({
        code: 'provider_error',
        message: expect.stringContaining('ANTHROPIC_API_KEY'),
      });
      delete process.env.ANTHROPIC_API_KEY;
      f.harnessAbsent = true;
      const standalone = await f.stream();
      expect(standalone.terminal).toMatchObject({
        type: 'error',
        message: expect.stringContaining('ANTHROPIC_API_KEY'),
      });
      expect(fake.requests.length).toBe(before);
    } finally {
      f.harnessAbsent = false;
      f.setToken(TOKEN);
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
  });

  // Last: by now successes, 401s, retries, aborts and failures have all been logged.
  it('never puts the key in logs, events or errors', () => {
    expect(f.worker.logs.text().length).toBeGreaterThan(0);
    expect(f.worker.logs.text()).not.toContain(TOKEN);
    expect(JSON.stringify(f.seen.events)).not.toContain(TOKEN);
    expect(f.seen.errors.some((m) => m.includes(TOKEN))).toBe(false);
  });
});
