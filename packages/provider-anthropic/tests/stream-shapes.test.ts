import {
  type FakeAnthropicServer,
  type ProviderEvent,
  type ProviderFixture,
  type RawSseFrame,
  startFakeAnthropic,
  startProviderFixture,
} from '@iii-harness/testing';
import { providerAnthropicWorker } from '../src/index.js';

// Streams of shapes the fake's renderer never produces, written by hand from Anthropic's
// streaming documentation (event names and payloads as the Messages API sends them) and replayed
// through the real worker: the shapes recorded vendor streams broke (issue 17), and bad streams,
// which must end in exactly one terminal event, never a hang or a half-open tool call.

const TOKEN = 'sk-ant-api03-shapes-5b8e2d71c4a9f036';
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
    config: { base_url: fake.url, retry_base_delay_ms: 1, retry_max_delay_ms: 5, discover_on_start: false },
  });
});

afterAll(() => f?.close());

type Ev = ProviderEvent & Record<string, any>;
const ev = (type: string, data: Record<string, unknown> = {}): RawSseFrame => ({
  event: type,
  data: { type, ...data },
});
const usage = { input_tokens: 472, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
const message = (extra: Record<string, unknown> = {}) => ({
  id: 'msg_014p7gG3wDgGV9EUtLvnow3U',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [],
  stop_reason: null,
  stop_sequence: null,
  usage,
  ...extra,
});
const replay = async (frames: RawSseFrame[]) => {
  fake.enqueue({ raw_sse: frames });
  const run = await f.stream({
    tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
  });
  return run as { events: Ev[]; terminal?: Ev };
};
const terminals = (events: Ev[]) => events.filter((e) => e.type === 'done' || e.type === 'error');
/** Every started call is ended before the terminal event: the bracketing the event contract promises. */
const expectBalancedToolCalls = (events: Ev[]) => {
  const end = events.findIndex((e) => e.type === 'done' || e.type === 'error');
  const before = events.slice(0, end);
  const started = before.filter((e) => e.type === 'tool_call_start').map((e) => e.id);
  const ended = before.filter((e) => e.type === 'tool_call_end').map((e) => e.id);
  expect(ended.sort()).toEqual(started.sort());
};

describe('provider-anthropic: stream shapes from the vendor', () => {
  it('a tool_use whose input arrives whole in content_block_start, with no input_json_delta, keeps its arguments', async () => {
    const input = { location: 'San Francisco, CA', unit: 'celsius' };
    const { events, terminal } = await replay([
      ev('message_start', { message: message() }),
      ev('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input },
      }),
      ev('content_block_stop', { index: 0 }),
      ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } }),
      ev('message_stop'),
    ]);
    expect(events.find((e) => e.type === 'tool_call_end')?.arguments).toEqual(input);
    expect(terminal).toMatchObject({
      type: 'done',
      stop_reason: 'function_call',
      message: {
        content: [
          { type: 'function_call', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: input },
        ],
      },
    });
  });

  it('a message whose content and stop_reason arrive inside message_start, then only message_stop, is kept whole', async () => {
    const input = { location: 'Paris' };
    const { events, terminal } = await replay([
      ev('message_start', {
        message: message({
          content: [
            { type: 'text', text: 'Let me check the weather.', citations: null },
            { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input },
          ],
          stop_reason: 'tool_use',
          usage: { ...usage, output_tokens: 57 },
        }),
      }),
      ev('message_stop'),
    ]);
    expect(terminal).toMatchObject({
      type: 'done',
      stop_reason: 'function_call',
      message: {
        content: [
          { type: 'text', text: 'Let me check the weather.' },
          { type: 'function_call', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: input },
        ],
        usage: { input_tokens: 472, output_tokens: 57 },
      },
    });
    expectBalancedToolCalls(events);
  });

  it('a second message_start while a message is open ends the stream with one error, the open call closed first', async () => {
    const { events, terminal } = await replay([
      ev('message_start', { message: message() }),
      ev('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_01first', name: 'get_weather', input: {} },
      }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"location": "Ber' } }),
      ev('message_start', { message: message({ id: 'msg_second' }) }),
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Another message.' } }),
      ev('content_block_stop', { index: 0 }),
      ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } }),
      ev('message_stop'),
    ]);
    expect(terminals(events)).toHaveLength(1);
    expect(terminal).toMatchObject({ type: 'error', code: 'provider_error', retryable: false });
    expect(terminal!.message).toMatch(/second message_start/);
    expect(terminal).toBe(events.at(-1));
    expectBalancedToolCalls(events);
    expect(events.some((e) => e.type === 'text_delta' && e.delta === 'Another message.')).toBe(false);
  });

  it('an unknown block, delta and event are each reported once as a warning and logged, and the reply still ends', async () => {
    const { events, terminal } = await replay([
      ev('message_start', { message: message() }),
      ev('content_block_start', { index: 0, content_block: { type: 'hologram', frames: 3 } }),
      ev('content_block_delta', { index: 0, delta: { type: 'frame_delta', frame: 'x' } }),
      ev('content_block_stop', { index: 0 }),
      ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
      ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Still here.' } }),
      ev('content_block_delta', { index: 1, delta: { type: 'sparkle_delta', sparkle: 1 } }),
      ev('content_block_delta', { index: 1, delta: { type: 'sparkle_delta', sparkle: 2 } }),
      ev('content_block_stop', { index: 1 }),
      ev('brand_new_event', { detail: 'x' }),
      ev('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 9 },
        context_management: { applied_edits: [{ type: 'clear_tool_uses_20250919', cleared_tool_uses: 2 }] },
      }),
      ev('message_stop'),
    ]);
    expect(events.filter((e) => e.type === 'warning').map((e) => [e.code, e.feature])).toEqual([
      ['unsupported_block', 'hologram'],
      ['unsupported_delta', 'sparkle_delta'],
      ['unsupported_event', 'brand_new_event'],
      ['unsupported_event', 'message_delta.context_management'],
    ]);
    expect(terminals(events)).toHaveLength(1);
    expect(terminal).toMatchObject({ type: 'done', message: { content: [{ type: 'text', text: 'Still here.' }] } });
    for (const feature of ['hologram', 'sparkle_delta', 'brand_new_event'])
      expect(f.worker.logs.text()).toContain(feature);
  });

  it('JSON cut off inside a delta ends the stream with one error and no half-open call', async () => {
    const { events, terminal } = await replay([
      ev('message_start', { message: message() }),
      ev('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_01cut', name: 'get_weather', input: {} },
      }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"location": ' } }),
      { event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"input_js' },
      ev('content_block_stop', { index: 0 }),
      ev('message_stop'),
    ]);
    expect(terminals(events)).toHaveLength(1);
    expect(terminal).toMatchObject({ type: 'error', code: 'provider_error', reason: 'bad_response', retryable: false });
    expect(terminal).toBe(events.at(-1));
    expectBalancedToolCalls(events);
  });

  it('a stream cut in the middle of a call (no block stop, no message stop) ends with one error, the call closed', async () => {
    const { events, terminal } = await replay([
      ev('message_start', { message: message() }),
      ev('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_01open', name: 'get_weather', input: {} },
      }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"location": "Li' } }),
    ]);
    expect(terminals(events)).toHaveLength(1);
    expect(terminal).toMatchObject({ type: 'error', reason: 'connection' });
    expectBalancedToolCalls(events);
    expect(terminal!.partial.content[0]).toEqual({
      type: 'function_call',
      id: 'toolu_01open',
      name: 'get_weather',
      arguments: { invalid_json_arguments: '{"location": "Li' },
    });
  });
});
