import Anthropic from '@anthropic-ai/sdk';
import { DEFAULT_FAKE_ANTHROPIC_MODELS, type FakeAnthropicServer, startFakeAnthropic } from '@iii-harness/testing';

// The fake server checked against the official SDK directly: if the SDK's own parser and
// accumulator read it, the provider tests exercise the real wire format.
let fake: FakeAnthropicServer;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: 'sk-ant-fake' });
  client = new Anthropic({ baseURL: fake.url, apiKey: 'sk-ant-fake', maxRetries: 0 });
});
afterAll(() => fake.close());

const params = { model: 'claude-haiku-4-5', max_tokens: 2048, messages: [{ role: 'user' as const, content: 'hi' }] };

describe('fake Anthropic server, read by @anthropic-ai/sdk', () => {
  it('sends the documented event sequence, ping included', async () => {
    fake.enqueue({ steps: [{ text: 'Hi' }], split: 2 });
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-fake', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(params),
    });
    const names = (await response.text())
      .split('\n')
      .filter((l) => l.startsWith('event: '))
      .map((l) => l.slice(7));
    expect(names).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('streams text, signed and redacted thinking, and parallel tool calls the SDK assembles', async () => {
    fake.enqueue({
      steps: [
        { thinking: 'Let me think', signature: 'sig-abc' },
        { redacted_thinking: 'ENCRYPTED==' },
        { text: 'Checking both.' },
        {
          tool_call: {
            id: 'toolu_a',
            name: 'agent_trigger',
            arguments: { function_id: 'fs::read', payload: { path: '/tmp/a' } },
          },
        },
        { tool_call: { id: 'toolu_b', name: 'agent_trigger', arguments: { function_id: 'fs::list', payload: {} } } },
      ],
      usage: { input: 50, output: 70, cache_read: 30, cache_write: 20 },
      split: 5,
    });
    const message = await client.messages.stream(params).finalMessage();
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Let me think', signature: 'sig-abc' },
      { type: 'redacted_thinking', data: 'ENCRYPTED==' },
      { type: 'text', text: 'Checking both.' },
      {
        type: 'tool_use',
        id: 'toolu_a',
        name: 'agent_trigger',
        input: { function_id: 'fs::read', payload: { path: '/tmp/a' } },
      },
      { type: 'tool_use', id: 'toolu_b', name: 'agent_trigger', input: { function_id: 'fs::list', payload: {} } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({
      input_tokens: 50,
      output_tokens: 70,
      cache_read_input_tokens: 30,
      cache_creation_input_tokens: 20,
    });
  });

  it('answers HTTP errors with Anthropic error bodies and retry-after', async () => {
    fake.enqueue({ http_error: { status: 529 } }, { http_error: { status: 429, headers: { 'retry-after': '7' } } });
    const overloaded = await client.messages.create(params).catch((e) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error', apiMessage: 'Overloaded' });
    const limited = await client.messages.create(params).catch((e) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(limited.headers.get('retry-after')).toBe('7');
    const wrongKey = await new Anthropic({ baseURL: fake.url, apiKey: 'nope', maxRetries: 0 }).messages
      .create(params)
      .catch((e) => e);
    expect(wrongKey).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('turns a mid-stream error event into an SDK APIError of that type', async () => {
    fake.enqueue({
      steps: [{ text: 'partial answer' }, { text: 'never sent' }],
      error_mid_stream: { after_steps: 1, message: 'Overloaded' },
    });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const event of await client.messages.create({ ...params, stream: true }))
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') texts.push(event.delta.text);
    })().catch((e) => e);
    expect(texts.join('')).toBe('partial answer');
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ status: undefined, type: 'overloaded_error' });
  });

  it('pages GET /v1/models the way the SDK follows it', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list({ limit: 3 })) ids.push(model.id);
    expect(ids).toEqual(DEFAULT_FAKE_ANTHROPIC_MODELS.map((m) => m.id));
    const pages = fake.requestsTo('/v1/models');
    expect(pages).toHaveLength(2);
  });
});
