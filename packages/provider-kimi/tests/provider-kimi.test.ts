import {
  type FakeVendorServer,
  type ProviderFixture,
  providerConformanceCases,
  startOpenAICompatibleServer,
  startProviderFixture,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { describeKimiModel, providerKimiWorker } from '../src/index.js';

const TOKEN = 'sk-moonshot-test-9d8c7b6a5f4e3d2c';
let fake: FakeVendorServer;
let fixture: ProviderFixture;

beforeAll(async () => {
  fake = await startOpenAICompatibleServer({
    apiKey: TOKEN,
    // Moonshot: native `functions.<name>:<idx>` ids, usage (with top-level cached_tokens) on the last chunk's choice.
    toolCallIds: 'moonshot',
    usageIn: 'choice',
    models: [
      { id: 'kimi-k2-0905-preview', object: 'model', owned_by: 'moonshot', context_length: 262_144 },
      {
        id: 'kimi-k2-thinking',
        object: 'model',
        owned_by: 'moonshot',
        context_length: 262_144,
        supports_reasoning: true,
      },
      { id: 'moonshot-v1-8k', object: 'model', owned_by: 'moonshot' },
      { id: 'moonshot-v1-32k-vision-preview', object: 'model', owned_by: 'moonshot', supports_image_in: true },
    ],
  });
  fixture = await startProviderFixture({
    providerId: 'kimi',
    spec: providerKimiWorker,
    fake,
    apiUrl: `${fake.url}/v1`,
    token: TOKEN,
    model: 'kimi-k2-0905-preview',
    config: { base_url: `${fake.url}/v1`, retry_base_delay_ms: 1, retry_max_delay_ms: 5 },
  });
});

afterAll(() => fixture?.close());

const lastBody = () => fake.requestsTo('/v1/chat/completions').at(-1)!.body as Record<string, any>;

describe('provider-kimi: conformance', () => {
  for (const c of providerConformanceCases(() => fixture, {
    credentialEnvVar: 'MOONSHOT_API_KEY',
    thinking: true,
    reasoningTokens: false,
    expectedModelIds: ['kimi-k2-0905-preview', 'kimi-k2-thinking', 'moonshot-v1-8k', 'moonshot-v1-32k-vision-preview'],
    // Moonshot: 400 invalid_request_error, the limit only in the words.
    contextOverflow: {
      http_error: {
        status: 400,
        body: {
          error: {
            message: 'Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)',
            type: 'invalid_request_error',
          },
        },
      },
    },
  })) {
    it(c.name, c.run);
  }
});

describe('provider-kimi: Moonshot specifics', () => {
  it('keeps native functions.<name>:<idx> tool-call ids and echoes them unchanged, with the reasoning, to thinking models', async () => {
    fake.enqueue({
      steps: [
        { thinking: 'I should read both files.' },
        { tool_call: { name: 'read_file', arguments: { path: 'a.md' } } },
        { tool_call: { name: 'read_file', arguments: { path: 'b.md' } } },
      ],
    });
    const first = await fixture.stream({ model: 'kimi-k2-thinking' });
    const message = first.terminal!.message as { content: Array<{ type: string; id?: string; thinking?: string }> };
    const ids = message.content.filter((b) => b.type === 'function_call').map((b) => b.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^functions\.read_file:\d+$/);
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: 'I should read both files.' });

    const results = ids.map((id) => ({
      role: 'function_result',
      function_call_id: id,
      function_id: 'fs::read',
      content: [{ type: 'text', text: 'text' }],
      is_error: false,
    }));
    fake.enqueue({ steps: [{ text: 'Both read.' }] });
    await fixture.stream({
      model: 'kimi-k2-thinking',
      temperature: 0.6,
      messages: [{ role: 'user', content: 'Read a and b.' }, message, ...results],
    });
    const body = lastBody();
    const assistant = body.messages.find((m: { role: string }) => m.role === 'assistant');
    expect(assistant).toEqual({
      role: 'assistant',
      content: null,
      reasoning_content: 'I should read both files.',
      tool_calls: ids.map((id, n) => ({
        id,
        type: 'function',
        function: { name: 'read_file', arguments: JSON.stringify({ path: n ? 'b.md' : 'a.md' }) },
      })),
    });
    expect(
      body.messages
        .filter((m: { role: string }) => m.role === 'tool')
        .map((m: { tool_call_id: string }) => m.tool_call_id),
    ).toEqual(ids);
    // Thinking models have fixed sampling; the output limit is max_completion_tokens; usage comes without stream_options.
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('stream_options');
    expect(body.max_completion_tokens).toBe(4_096);
  });

  it('does not send reasoning_content to non-thinking models, and keeps their temperature', async () => {
    const turn = {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'x' },
        { type: 'text', text: 'Hi' },
      ],
      provider: 'kimi',
      model: 'moonshot-v1-8k',
      usage: { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 },
      stop_reason: 'end',
    };
    await fixture.stream({
      model: 'moonshot-v1-8k',
      temperature: 0.3,
      messages: [{ role: 'user', content: 'a' }, turn, { role: 'user', content: 'b' }],
    });
    expect(lastBody().messages[2]).toEqual({ role: 'assistant', content: 'Hi' });
    expect(lastBody().temperature).toBe(0.3);
  });

  it('catalogs context length, vision and thinking from the model list', async () => {
    await fixture.call(contracts.provider.refreshModels('kimi'), {});
    const models = fixture.reconciles.at(-1)!.models;
    expect(models.find((m) => m.id === 'kimi-k2-thinking')).toMatchObject({
      context_window: 262_144,
      capabilities: expect.arrayContaining(['thinking']),
      pricing: { input: 0.6, output: 2.5 },
    });
    expect(models.find((m) => m.id === 'moonshot-v1-8k')).toMatchObject({
      context_window: 8_192,
      max_output_tokens: 4_096,
    });
    expect(models.find((m) => m.id === 'moonshot-v1-32k-vision-preview')!.capabilities).toContain('images');
    expect(describeKimiModel('gpt-4o')).toBeUndefined();
  });
});
