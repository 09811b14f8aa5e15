import {
  type FakeVendorServer,
  type ProviderEvent,
  type ProviderFixture,
  type RawSseFrame,
  startOpenAICompatibleServer,
  startProviderFixture,
} from '@iii-harness/testing';
import { providerOpenAIWorker } from '../src/index.js';

// Streams of shapes the fake's renderer never produces, written by hand from the vendors'
// documentation and replayed through the real worker (issue 17).

const TOKEN = 'xai-test-3f9a1c7e5b2d4086';
let fake: FakeVendorServer;
let f: ProviderFixture;

beforeAll(async () => {
  fake = await startOpenAICompatibleServer({ apiKey: TOKEN, models: ['grok-3-mini'] });
  f = await startProviderFixture({
    providerId: 'openai',
    spec: providerOpenAIWorker,
    fake,
    apiUrl: `${fake.url}/v1`,
    token: TOKEN,
    model: 'grok-3-mini',
    config: { base_url: `${fake.url}/v1`, retry_base_delay_ms: 1, retry_max_delay_ms: 5, discover_on_start: false },
  });
});

afterAll(() => f?.close());

type Ev = ProviderEvent & Record<string, any>;
const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): RawSseFrame => ({
  data: {
    id: '5a1d6b0e-8c2f-4b7a-9e3d-2f6c8a4b1d90',
    object: 'chat.completion.chunk',
    created: 1_752_000_000,
    model: 'grok-3-mini',
    system_fingerprint: 'fp_6ca14a3b2f',
    choices,
    ...extra,
  },
});
const delta = (d: Record<string, unknown>, finish: string | null = null) =>
  chunk([{ index: 0, delta: d, ...(finish ? { finish_reason: finish } : {}) }]);

describe('provider-openai: chat-completions stream shapes', () => {
  it('an OpenAI-compatible server whose completion_tokens exclude reasoning (xAI) is billed for both', async () => {
    // xAI reports reasoning tokens beside completion_tokens, and total_tokens counts both.
    fake.enqueue({
      raw_sse: [
        delta({ role: 'assistant', reasoning_content: 'The user greets; ' }),
        delta({ reasoning_content: 'answer briefly.' }),
        delta({ content: 'Hi' }),
        delta({}, 'stop'),
        chunk([], {
          usage: {
            prompt_tokens: 32,
            completion_tokens: 2,
            total_tokens: 374,
            prompt_tokens_details: { text_tokens: 32, audio_tokens: 0, image_tokens: 0, cached_tokens: 6 },
            completion_tokens_details: {
              reasoning_tokens: 340,
              audio_tokens: 0,
              accepted_prediction_tokens: 0,
              rejected_prediction_tokens: 0,
            },
            num_sources_used: 0,
          },
        }),
        { data: '[DONE]' },
      ],
    });
    const { terminal } = (await f.stream()) as { terminal?: Ev };
    expect(terminal).toMatchObject({ type: 'done', stop_reason: 'end' });
    expect(terminal!.message.usage).toMatchObject({
      input_tokens: 26,
      cache_read_tokens: 6,
      output_tokens: 342,
      reasoning_tokens: 340,
    });
  });
});

describe('provider-openai: a bad chat-completions stream ends in exactly one terminal event', () => {
  it('JSON cut off inside a chunk: one error, the open call closed', async () => {
    fake.enqueue({
      raw_sse: [
        delta({
          role: 'assistant',
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: 'agent_trigger', arguments: '' } },
          ],
        }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '{"function_id":' } }] }),
        { data: '{"id":"5a1d","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"ind' },
        delta({}, 'tool_calls'),
        { data: '[DONE]' },
      ],
    });
    const { events, terminal } = (await f.stream()) as { events: Ev[]; terminal?: Ev };
    expect(events.filter((e) => e.type === 'done' || e.type === 'error')).toHaveLength(1);
    expect(terminal).toMatchObject({ type: 'error', reason: 'bad_response', retryable: false });
    expect(events.filter((e) => e.type === 'tool_call_end')).toHaveLength(1);
  });
});

describe('provider-openai: bad Responses streams end in exactly one terminal event', () => {
  const frame = (event: string, data: Record<string, unknown> = {}): RawSseFrame => ({
    event,
    data: { type: event, ...data },
  });
  const created = frame('response.created', { response: { id: 'resp_bad', status: 'in_progress' } });
  const callAdded = frame('response.output_item.added', {
    output_index: 0,
    item: { id: 'fc_1', type: 'function_call', call_id: 'call_bad', name: 'agent_trigger', arguments: '' },
  });
  const replay = async (frames: RawSseFrame[]) => {
    fake.enqueue({ raw_sse: frames });
    return (await f.stream({ model: 'gpt-5-mini' })) as { events: Ev[]; terminal?: Ev };
  };
  const balanced = (events: Ev[]) => {
    const starts = events.filter((e) => e.type === 'tool_call_start').length;
    expect(events.filter((e) => e.type === 'tool_call_end')).toHaveLength(starts);
  };

  it('JSON cut off inside a delta: one error, the open call closed', async () => {
    const { events, terminal } = await replay([
      created,
      callAdded,
      frame('response.function_call_arguments.delta', { output_index: 0, delta: '{"function_id":' }),
      {
        event: 'response.function_call_arguments.delta',
        data: '{"type":"response.function_call_arguments.delta","output_ind',
      },
      frame('response.completed', { response: { id: 'resp_bad', status: 'completed' } }),
    ]);
    expect(events.filter((e) => e.type === 'done' || e.type === 'error')).toHaveLength(1);
    expect(terminal).toMatchObject({ type: 'error', reason: 'bad_response', retryable: false });
    expect(terminal).toBe(events.at(-1));
    balanced(events);
  });

  it('an unknown event and an output item we cannot carry are reported as warnings; the reply still ends', async () => {
    const { events, terminal } = await replay([
      created,
      frame('response.output_item.added', {
        output_index: 0,
        item: { id: 'ws_1', type: 'web_search_call', status: 'in_progress' },
      }),
      frame('response.web_search_call.searching', { output_index: 0, item_id: 'ws_1' }),
      frame('response.output_item.done', {
        output_index: 0,
        item: { id: 'ws_1', type: 'web_search_call', status: 'completed' },
      }),
      frame('response.brand_new_event', { detail: 1 }),
      frame('response.output_item.added', { output_index: 1, item: { id: 'msg_1', type: 'message', content: [] } }),
      frame('response.output_text.delta', { output_index: 1, content_index: 0, delta: 'Found it.' }),
      frame('response.completed', { response: { id: 'resp_bad', status: 'completed' } }),
    ]);
    expect(events.filter((e) => e.type === 'warning').map((e) => [e.code, e.feature])).toEqual([
      ['unsupported_item', 'web_search_call'],
      ['unsupported_event', 'response.brand_new_event'],
    ]);
    expect(terminal).toMatchObject({ type: 'done', message: { content: [{ type: 'text', text: 'Found it.' }] } });
    expect(f.worker.logs.text()).toContain('web_search_call');
  });

  it('a stream that ends with a call open and no terminal event: one error, the call closed', async () => {
    const { events, terminal } = await replay([
      created,
      callAdded,
      frame('response.function_call_arguments.delta', { output_index: 0, delta: '{"function_id":"x' }),
    ]);
    expect(terminal).toMatchObject({ type: 'error', reason: 'connection' });
    expect(events.filter((e) => e.type === 'done' || e.type === 'error')).toHaveLength(1);
    balanced(events);
  });

  it('a second response in one stream is a broken stream', async () => {
    const { terminal } = await replay([
      created,
      frame('response.output_item.added', { output_index: 0, item: { id: 'msg_1', type: 'message', content: [] } }),
      frame('response.output_text.delta', { output_index: 0, content_index: 0, delta: 'one' }),
      created,
      frame('response.completed', { response: { id: 'resp_bad', status: 'completed' } }),
    ]);
    expect(terminal).toMatchObject({ type: 'error', reason: 'bad_response' });
  });
});
