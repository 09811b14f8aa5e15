import {
  type FakeVendorServer,
  type ProviderEvent,
  type ProviderFixture,
  providerConformanceCases,
  type RawSseFrame,
  responsesWire,
  startOpenAICompatibleServer,
  startProviderFixture,
} from '@iii-harness/testing';
import { providerOpenAIWorker } from '../src/index.js';

// The Responses API path: reasoning models (here gpt-5-mini) go through POST /v1/responses,
// stateless (store: false), their reasoning kept encrypted on the message and sent back.

const TOKEN = 'sk-test-responses-1b7d3f9e2a5c8064';
let fake: FakeVendorServer;
let f: ProviderFixture;

beforeAll(async () => {
  fake = await startOpenAICompatibleServer({ apiKey: TOKEN, models: ['gpt-4.1', 'gpt-5-mini', 'gpt-5'] });
  f = await startProviderFixture({
    providerId: 'openai',
    spec: providerOpenAIWorker,
    fake,
    apiUrl: `${fake.url}/v1`,
    token: TOKEN,
    model: 'gpt-5-mini',
    config: { base_url: `${fake.url}/v1`, retry_base_delay_ms: 1, retry_max_delay_ms: 5 },
  });
});

afterAll(() => f?.close());

type Ev = ProviderEvent & Record<string, any>;
const ofType = (events: ProviderEvent[], type: string) => events.filter((e) => e.type === type) as Ev[];
const responseRequests = () => fake.requestsTo('/v1/responses');
const lastInput = () => (responseRequests().at(-1)!.body as { input: Array<Record<string, unknown>> }).input;
const tools = [{ name: 'agent_trigger', description: 'Call a bus function', parameters: { type: 'object' } }];

describe('provider-openai (Responses API): conformance', () => {
  for (const c of providerConformanceCases(() => f, {
    credentialEnvVar: 'OPENAI_API_KEY',
    thinking: true,
    reasoningTokens: true,
    expectedModelIds: ['gpt-4.1', 'gpt-5-mini', 'gpt-5'],
    wire: responsesWire,
    contextOverflow: {
      http_error: {
        status: 400,
        body: {
          error: {
            message: 'Your input exceeds the context window of this model. Please adjust your input and try again.',
            type: 'invalid_request_error',
            param: 'input',
            code: 'context_length_exceeded',
          },
        },
      },
    },
  })) {
    it(c.name, c.run);
  }
});

describe('provider-openai (Responses API): its own cases', () => {
  it('keeps encrypted reasoning on the message and sends it back with the call and its output on the next request', async () => {
    fake.enqueue({
      steps: [
        { thinking: 'The user wants the file; read it first.' },
        { tool_call: { name: 'agent_trigger', arguments: { function_id: 'fs::read', payload: { path: 'a.md' } } } },
      ],
      usage: { input: 200, output: 90, cache_read: 120, reasoning: 64 },
    });
    const { terminal } = (await f.stream({ tools })) as { terminal?: Ev };
    expect(terminal).toMatchObject({ type: 'done', stop_reason: 'function_call' });
    const message = terminal!.message;
    const [thinking, call] = message.content;
    expect(thinking).toMatchObject({ type: 'thinking', thinking: 'The user wants the file; read it first.' });
    const kept = JSON.parse(thinking.signature);
    expect(kept).toMatchObject({
      id: expect.stringMatching(/^rs_/),
      encrypted_content: expect.stringMatching(/^gAAAA/),
    });
    expect(call).toEqual({
      type: 'function_call',
      id: expect.stringMatching(/^call_/),
      name: 'agent_trigger',
      arguments: { function_id: 'fs::read', payload: { path: 'a.md' } },
    });
    expect(message.usage).toMatchObject({
      input_tokens: 200,
      cache_read_tokens: 120,
      output_tokens: 90,
      reasoning_tokens: 64,
    });

    // The next request: the fake refuses reasoning it did not issue, or that has nothing after it.
    fake.enqueue({ steps: [{ text: 'It says hello.' }] });
    const result = {
      role: 'function_result',
      function_call_id: call.id,
      function_id: 'fs::read',
      content: [{ type: 'text', text: '# Hello' }],
      is_error: false,
    };
    const next = (await f.stream({ tools, messages: [{ role: 'user', content: 'Read a.md' }, message, result] })) as {
      terminal?: Ev;
    };
    expect(next.terminal).toMatchObject({ type: 'done', stop_reason: 'end' });
    expect(lastInput()).toEqual([
      { role: 'user', content: 'Read a.md' },
      { type: 'reasoning', id: kept.id, summary: kept.summary, encrypted_content: kept.encrypted_content },
      { type: 'function_call', call_id: call.id, name: 'agent_trigger', arguments: JSON.stringify(call.arguments) },
      { type: 'function_call_output', call_id: call.id, output: '# Hello' },
    ]);

    // Another model cannot read this model's encrypted reasoning: it is left out, the call stays.
    fake.enqueue({ steps: [{ text: 'ok' }] });
    await f.stream({ model: 'gpt-5', tools, messages: [{ role: 'user', content: 'Read a.md' }, message, result] });
    expect(lastInput().map((item) => item.type ?? item.role)).toEqual([
      'user',
      'function_call',
      'function_call_output',
    ]);
  });

  it('an incomplete response (max_output_tokens) stops with length and keeps the partial answer', async () => {
    fake.enqueue({ steps: [{ text: 'The first part of a long' }], stop: 'length' });
    const { terminal } = (await f.stream()) as { terminal?: Ev };
    expect(terminal).toMatchObject({
      type: 'done',
      stop_reason: 'length',
      message: { content: [{ type: 'text', text: 'The first part of a long' }] },
    });
  });

  it('a response that fails mid-stream ends with one error carrying the partial answer, never retried', async () => {
    const before = responseRequests().length;
    fake.enqueue({
      steps: [{ text: 'So far so good' }, { text: 'never' }],
      error_mid_stream: { after_steps: 1, message: 'The model produced invalid content.', type: 'server_error' },
    });
    const { events, terminal } = (await f.stream()) as { events: Ev[]; terminal?: Ev };
    expect(ofType(events, 'error')).toHaveLength(1);
    expect(terminal).toMatchObject({
      type: 'error',
      reason: 'server',
      message: expect.stringContaining('The model produced invalid content.'),
      partial: { content: [{ type: 'text', text: 'So far so good' }] },
    });
    expect(responseRequests().length - before).toBe(1);
  });

  it('maps refusals and url citations from the vendor stream', async () => {
    const frame = (event: string, data: Record<string, unknown>): RawSseFrame => ({
      event,
      data: { type: event, ...data },
    });
    const done = (status: string, extra: Record<string, unknown> = {}) =>
      frame(`response.${status === 'completed' ? 'completed' : 'incomplete'}`, {
        response: { id: 'resp_1', status, usage: null, ...extra },
      });
    fake.enqueue({
      raw_sse: [
        frame('response.created', { response: { id: 'resp_1', status: 'in_progress' } }),
        frame('response.output_item.added', { output_index: 0, item: { id: 'msg_1', type: 'message', content: [] } }),
        frame('response.refusal.delta', { output_index: 0, content_index: 0, delta: "I can't help with that." }),
        done('completed'),
      ],
    });
    const refused = (await f.stream()) as { terminal?: Ev };
    expect(refused.terminal).toMatchObject({
      stop_reason: 'refusal',
      message: { stop_details: { type: 'refusal', explanation: "I can't help with that." } },
    });

    const annotation = {
      type: 'url_citation',
      url: 'https://w.example',
      title: 'Weather',
      start_index: 0,
      end_index: 5,
    };
    fake.enqueue({
      raw_sse: [
        frame('response.created', { response: { id: 'resp_2', status: 'in_progress' } }),
        frame('response.output_item.added', { output_index: 0, item: { id: 'msg_2', type: 'message', content: [] } }),
        frame('response.output_text.delta', { output_index: 0, content_index: 0, delta: 'Sunny' }),
        frame('response.output_text.annotation.added', {
          output_index: 0,
          content_index: 0,
          annotation_index: 0,
          annotation,
        }),
        done('completed'),
      ],
    });
    const cited = (await f.stream()) as { terminal?: Ev };
    expect(cited.terminal!.message.content).toEqual([
      {
        type: 'text',
        text: 'Sunny',
        citations: [
          {
            type: 'url_citation',
            url: 'https://w.example',
            title: 'Weather',
            start_index: 0,
            end_index: 5,
            vendor: annotation,
          },
        ],
      },
    ]);
  });
});
