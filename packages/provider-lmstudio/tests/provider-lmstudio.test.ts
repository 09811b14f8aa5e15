import {
  eventually,
  type FakeLmStudioServer,
  type ProviderFixture,
  providerConformanceCases,
  startLmStudioServer,
  startProviderFixture,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { providerLmStudioWorker } from '../src/index.js';

const TOKEN = 'lmstudio-test-token-5e6f7a8b';
let fake: FakeLmStudioServer;
let fixture: ProviderFixture;

beforeAll(async () => {
  // LM Studio quirk on by default in the fake: later tool-call deltas carry `name: ""`.
  fake = await startLmStudioServer();
  fixture = await startProviderFixture({
    providerId: 'lmstudio',
    spec: providerLmStudioWorker,
    fake,
    apiUrl: `${fake.url}/v1`,
    token: TOKEN,
    model: 'qwen2.5-7b-instruct',
    config: { base_url: `${fake.url}/v1`, retry_base_delay_ms: 1, retry_max_delay_ms: 5 },
  });
});

afterAll(() => fixture?.close());

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code: string }) => error.code,
  );

describe('provider-lmstudio: conformance', () => {
  for (const c of providerConformanceCases(() => fixture, {
    thinking: true,
    reasoningTokens: false,
    expectedModelIds: ['qwen2.5-7b-instruct', 'qwen2-vl-7b-instruct'],
    extraStops: [{ stop: { raw: 'end' }, expected: 'end', raw: 'end' }],
    // LM Studio answers 200 and says it in an SSE `error` frame.
    contextOverflow: {
      raw_sse: [
        {
          event: 'error',
          data: {
            error: {
              message:
                'Input does not fit in context length. The input has 31430 tokens, but the context length only supports 30000 tokens.',
            },
            message:
              'Input does not fit in context length. The input has 31430 tokens, but the context length only supports 30000 tokens.',
          },
        },
      ],
    },
    extraInvalidPayloads: [
      ['provider::lmstudio::load_model', {}],
      ['provider::lmstudio::load_model', { model: 'qwen2.5-7b-instruct', context_length: -1 }],
      ['provider::lmstudio::unload_model', { instance_id: 5 }],
    ],
  })) {
    it(c.name, c.run);
  }
});

describe('provider-lmstudio: LM Studio specifics', () => {
  it('discovers from the REST model list: loaded or not, the loaded context or the maximum, no embeddings', async () => {
    await fixture.call(contracts.provider.refreshModels('lmstudio'), {});
    const models = fixture.reconciles.at(-1)!.models;
    expect(models.find((m) => m.id === 'qwen2.5-7b-instruct')).toMatchObject({
      context_window: 8_192,
      capabilities: ['tools', 'streaming'],
    });
    expect(models.find((m) => m.id === 'qwen2-vl-7b-instruct')).toMatchObject({
      context_window: 32_768,
      capabilities: ['tools', 'streaming', 'images'],
    });
    expect(models.every((m) => m.pricing === undefined)).toBe(true);
    expect(fake.requestsTo('/api/v0/models').length).toBeGreaterThan(0);
  });

  it('load_model loads through POST /api/v1/models/load and refreshes the catalog; unload_model unloads', async () => {
    const reconciles = fixture.reconciles.length;
    const loaded = await fixture.call(contracts.lmstudio.loadModel, {
      model: 'qwen2-vl-7b-instruct',
      context_length: 16_384,
    });
    expect(loaded).toEqual({
      instance_id: 'qwen2-vl-7b-instruct',
      model: 'qwen2-vl-7b-instruct',
      type: 'llm',
      status: 'loaded',
      load_time_seconds: 0.01,
    });
    expect(fake.requestsTo('/api/v1/models/load').at(-1)!.body).toEqual({
      model: 'qwen2-vl-7b-instruct',
      context_length: 16_384,
    });
    await eventually(() => expect(fixture.reconciles.length).toBeGreaterThan(reconciles));
    await eventually(() =>
      expect(fixture.reconciles.at(-1)!.models.find((m) => m.id === 'qwen2-vl-7b-instruct')).toMatchObject({
        context_window: 16_384,
      }),
    );

    const second = await fixture.call(contracts.lmstudio.loadModel, {
      model: 'qwen2-vl-7b-instruct',
    });
    expect(second.instance_id).toBe('qwen2-vl-7b-instruct:2');
    expect(await fixture.call(contracts.lmstudio.unloadModel, { instance_id: 'qwen2-vl-7b-instruct:2' })).toEqual({
      instance_id: 'qwen2-vl-7b-instruct:2',
    });
    expect(await fixture.call(contracts.lmstudio.unloadModel, { instance_id: 'qwen2-vl-7b-instruct' })).toEqual({
      instance_id: 'qwen2-vl-7b-instruct',
    });
    expect(fake.lmstudio.models.find((m) => m.id === 'qwen2-vl-7b-instruct')!.state).toBe('not-loaded');
  });

  it('answers not_found for an unknown model or instance', async () => {
    expect(await codeOf(fixture.call(contracts.lmstudio.loadModel, { model: 'no-such-model' }))).toBe('not_found');
    expect(await codeOf(fixture.call(contracts.lmstudio.unloadModel, { instance_id: 'never-loaded' }))).toBe(
      'not_found',
    );
  });

  it("needs no key: without one it sends LM Studio's placeholder bearer and streams normally", async () => {
    fixture.setToken(undefined);
    try {
      fake.enqueue({ steps: [{ text: 'local and keyless' }] });
      const { terminal } = await fixture.stream();
      expect(terminal).toMatchObject({
        type: 'done',
        message: { content: [{ type: 'text', text: 'local and keyless' }] },
      });
      expect(fake.requestsTo('/v1/chat/completions').at(-1)!.headers.authorization).toBe('Bearer lm-studio');
    } finally {
      fixture.setToken(TOKEN);
    }
  });
});
