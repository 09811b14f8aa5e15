import {
  type FakeLlamaCppServer,
  type ProviderFixture,
  providerConformanceCases,
  startLlamaCppServer,
  startProviderFixture,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { providerLlamaCppWorker } from '../src/index.js';

const TOKEN = 'llamacpp-test-key-3c4d5e6f';
let fake: FakeLlamaCppServer;
let fixture: ProviderFixture;

beforeAll(async () => {
  // Usage rides on the finish chunk, as llama-server sends it; some builds repeat id and name in every tool delta.
  fake = await startLlamaCppServer({ alias: 'qwen2.5-7b-instruct', n_ctx: 16_384, laterToolDeltas: 'repeat_name' });
  fixture = await startProviderFixture({
    providerId: 'llamacpp',
    spec: providerLlamaCppWorker,
    fake,
    apiUrl: fake.url,
    token: TOKEN,
    model: 'qwen2.5-7b-instruct',
    config: { base_url: fake.url, retry_base_delay_ms: 1, retry_max_delay_ms: 5, health_poll_ms: 5 },
  });
});

afterAll(() => fixture?.close());

describe('provider-llamacpp: conformance', () => {
  for (const c of providerConformanceCases(() => fixture, {
    thinking: true,
    reasoningTokens: false,
    expectedModelIds: ['qwen2.5-7b-instruct'],
    // llama-server: a typed error with the token counts.
    contextOverflow: {
      http_error: {
        status: 400,
        body: {
          error: {
            code: 400,
            message: 'the request exceeds the available context size, try increasing it',
            type: 'exceed_context_size_error',
            n_prompt_tokens: 14429,
            n_ctx: 8192,
          },
        },
      },
    },
  })) {
    it(c.name, c.run);
  }
});

describe('provider-llamacpp: llama-server specifics', () => {
  it('takes the context window from /props n_ctx', async () => {
    await fixture.call(contracts.provider.refreshModels('llamacpp'), {});
    expect(fixture.reconciles.at(-1)!.models).toEqual([
      {
        id: 'qwen2.5-7b-instruct',
        provider: 'llamacpp',
        context_window: 16_384,
        max_output_tokens: 4_096,
        capabilities: ['tools', 'streaming'],
      },
    ]);
    expect(fake.requestsTo('/props').length).toBeGreaterThan(0);
  });

  it('waits through 503 "Loading model" on /health and answers once loaded, instead of failing', async () => {
    const chats = fake.requestsTo('/v1/chat/completions').length;
    const health = fake.requestsTo('/health').length;
    fake.llamacpp.loadingRemaining = 4; // the chat request and three health polls see "Loading model"
    fake.enqueue({ steps: [{ text: 'model ready' }] });
    const { events, terminal } = await fixture.stream();
    expect(terminal).toMatchObject({ type: 'done', message: { content: [{ type: 'text', text: 'model ready' }] } });
    expect(events.filter((e) => e.type === 'error')).toHaveLength(0);
    expect(fake.requestsTo('/health').length - health).toBe(4);
    expect(fake.requestsTo('/v1/chat/completions').length - chats).toBe(2);
  });

  it('discovery waits for readiness too', async () => {
    fake.llamacpp.loadingRemaining = 2;
    const result = await fixture.call(contracts.provider.refreshModels('llamacpp'), {});
    expect(result.count).toBe(1);
    expect(fake.llamacpp.loadingRemaining).toBe(0);
  });

  it('sends no Authorization header when no key is configured', async () => {
    fixture.setToken(undefined);
    try {
      await fixture.stream();
      expect(fake.requestsTo('/v1/chat/completions').at(-1)!.headers.authorization).toBeUndefined();
    } finally {
      fixture.setToken(TOKEN);
    }
  });
});
