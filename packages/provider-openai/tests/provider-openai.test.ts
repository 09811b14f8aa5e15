import { buildChatCompletionBody, compatFor } from '@iii-harness/provider-kit';
import {
  type FakeVendorServer,
  type ProviderFixture,
  providerConformanceCases,
  startOpenAICompatibleServer,
  startProviderFixture,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { configSchema, describeOpenAIModel, openAICompat, providerOpenAIWorker, wireApiFor } from '../src/index.js';

const TOKEN = 'sk-test-openai-7f3c9a2b5d1e4f60';
const LISTED = [
  'gpt-4.1',
  'gpt-5-mini',
  'o3',
  'o4-mini',
  'text-embedding-3-small',
  'whisper-1',
  'gpt-4o-realtime-preview',
  'dall-e-3',
  'gpt-3.5-turbo-instruct',
];
let fake: FakeVendorServer;
let fixture: ProviderFixture;

beforeAll(async () => {
  fake = await startOpenAICompatibleServer({ apiKey: TOKEN, models: LISTED });
  fixture = await startProviderFixture({
    providerId: 'openai',
    spec: providerOpenAIWorker,
    fake,
    apiUrl: `${fake.url}/v1`,
    token: TOKEN,
    model: 'gpt-4.1',
    config: { base_url: `${fake.url}/v1`, retry_base_delay_ms: 1, retry_max_delay_ms: 5 },
  });
});

afterAll(() => fixture?.close());

const lastBody = () => fake.requestsTo('/v1/chat/completions').at(-1)!.body as Record<string, unknown>;

describe('provider-openai: conformance', () => {
  for (const c of providerConformanceCases(() => fixture, {
    credentialEnvVar: 'OPENAI_API_KEY',
    thinking: false,
    reasoningTokens: true,
    expectedModelIds: ['gpt-4.1', 'gpt-5-mini', 'o3', 'o4-mini'],
    // OpenAI: 400 with code context_length_exceeded.
    contextOverflow: {
      http_error: {
        status: 400,
        body: {
          error: {
            message:
              "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
          },
        },
      },
    },
  })) {
    it(c.name, c.run);
  }
});

describe('provider-openai: request parameters', () => {
  it('sends reasoning models to the Responses API with effort, a summary and encrypted reasoning, never temperature', async () => {
    const responsesBody = () => fake.requestsTo('/v1/responses').at(-1)!.body as Record<string, unknown>;
    const before = fake.requestsTo('/v1/chat/completions').length;
    await fixture.stream({
      model: 'o3',
      temperature: 0.3,
      max_tokens: 900,
      thinking: { enabled: true, effort: 'minimal' },
    });
    expect(responsesBody()).toMatchObject({
      model: 'o3',
      instructions: 'Be brief.',
      input: [{ role: 'user', content: 'Say hello.' }],
      max_output_tokens: 900,
      reasoning: { effort: 'low', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      store: false,
      stream: true,
    });
    expect(responsesBody()).not.toHaveProperty('temperature');

    await fixture.stream({ model: 'gpt-5-mini', temperature: 0.3, thinking: { enabled: true, effort: 'minimal' } });
    expect(responsesBody()).toMatchObject({ reasoning: { effort: 'minimal' }, max_output_tokens: 4_096 });
    await fixture.stream({ model: 'gpt-5-mini' });
    expect(responsesBody()).toMatchObject({ reasoning: { effort: 'medium' } });
    expect(fake.requestsTo('/v1/chat/completions').length).toBe(before);
  });

  it('with api: chat_completions, reasoning models get max_completion_tokens and reasoning_effort instead', () => {
    const body = buildChatCompletionBody(
      {
        request_id: 'r',
        model: 'o3',
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.3,
        max_tokens: 900,
        thinking: { enabled: true, effort: 'minimal' },
      },
      compatFor(openAICompat, 'o3'),
      4_096,
    );
    expect(body).toMatchObject({
      max_completion_tokens: 900,
      reasoning_effort: 'low',
      stream_options: { include_usage: true },
    });
    expect(body).not.toHaveProperty('temperature');
    expect(wireApiFor('o3', configSchema.parse({ api: 'chat_completions' }))).toBe('chat_completions');
    expect(wireApiFor('gpt-4.1', configSchema.parse({}))).toBe('chat_completions');
    expect(wireApiFor('gpt-4.1-mini', configSchema.parse({ responses_models: ['gpt-4.1'] }))).toBe('responses');
    expect(wireApiFor('o1-pro', configSchema.parse({}))).toBe('responses');
  });

  it('sends chat models temperature and no reasoning_effort', async () => {
    await fixture.stream({ model: 'gpt-4.1', temperature: 0.3, thinking: { enabled: true, effort: 'high' } });
    expect(lastBody()).toMatchObject({ temperature: 0.3, max_completion_tokens: 4_096 });
    expect(lastBody()).not.toHaveProperty('reasoning_effort');
  });

  it('rewrites tool-call ids OpenAI would reject the same way in the call and its result, and sends images as parts', async () => {
    const foreign = 'toolu_01A09q90qw90lq917835lq9-from-another-provider-entirely';
    await fixture.stream({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look:' },
            { type: 'image', mime_type: 'image/png', data: 'iVBORw0KGgo=' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hidden' },
            { type: 'function_call', id: foreign, name: 'agent_trigger', arguments: { a: 1 } },
          ],
          provider: 'anthropic',
          model: 'claude',
          usage: { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 },
          stop_reason: 'function_call',
        },
        {
          role: 'function_result',
          function_call_id: foreign,
          function_id: 'x::y',
          content: [{ type: 'text', text: 'ok' }],
          is_error: false,
        },
      ],
    });
    const messages = lastBody().messages as Array<Record<string, any>>;
    expect(messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Look:' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    });
    const id = messages[2]!.tool_calls[0].id as string;
    expect(id).toMatch(/^call_[A-Za-z0-9_-]{1,35}$/);
    expect(messages[2]).not.toHaveProperty('reasoning_content');
    expect(messages[3]).toEqual({ role: 'tool', tool_call_id: id, content: 'ok' });
  });
});

describe('provider-openai: catalog', () => {
  it('keeps chat models only, with context windows from the known table and a safe default', () => {
    expect(describeOpenAIModel('gpt-4.1-mini-2025-04-14')).toMatchObject({
      context_window: 1_047_576,
      max_output_tokens: 32_768,
    });
    expect(describeOpenAIModel('o3')!.capabilities).toContain('thinking');
    expect(describeOpenAIModel('gpt-4o')!.capabilities).not.toContain('thinking');
    expect(describeOpenAIModel('gpt-6-preview')).toMatchObject({ context_window: 128_000, max_output_tokens: 16_384 });
    for (const id of [
      'text-embedding-3-small',
      'whisper-1',
      'dall-e-3',
      'gpt-4o-realtime-preview',
      'gpt-image-1',
      'tts-1',
    ])
      expect(describeOpenAIModel(id)).toBeUndefined();
    // Only the Responses API serves these: listed unless every model goes through chat completions.
    expect(describeOpenAIModel('o1-pro')!.capabilities).toContain('thinking');
    expect(describeOpenAIModel('gpt-5-codex')).toBeDefined();
    expect(describeOpenAIModel('o1-pro', 'chat_completions')).toBeUndefined();
  });

  it('writes pricing for known models into the catalog', async () => {
    await fixture.call(contracts.provider.refreshModels('openai'), {});
    const models = fixture.reconciles.at(-1)!.models;
    expect(models.find((m) => m.id === 'gpt-4.1')).toMatchObject({ pricing: { input: 2, output: 8, cache_read: 0.5 } });
    expect(models.find((m) => m.id === 'o3')).toMatchObject({
      context_window: 200_000,
      capabilities: expect.arrayContaining(['thinking']),
    });
  });
});
