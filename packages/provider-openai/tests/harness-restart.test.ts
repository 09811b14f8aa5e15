import {
  type FakeVendorServer,
  type ProviderFixture,
  startOpenAICompatibleServer,
  startProviderFixture,
  startTestWorker,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { z } from 'zod';
import { providerOpenAIWorker } from '../src/index.js';

// The provider reads its settings (URL, stored key) from the harness at each request. While the
// harness restarts, `harness::provider::resolve` is not registered: a request then waits for it
// (bounded), instead of failing at once, or running with the environment's settings as if no
// harness existed. Here the key exists only in the harness's store, not in the environment.
const TOKEN = 'sk-stored-only-4b1d9e7c2a6f3058';
let fake: FakeVendorServer;
let f: ProviderFixture;
let harness: TestWorker<unknown> | undefined;
const savedKey = process.env.OPENAI_API_KEY;

beforeAll(async () => {
  delete process.env.OPENAI_API_KEY;
  fake = await startOpenAICompatibleServer({ apiKey: TOKEN, models: ['gpt-4.1'] });
  f = await startProviderFixture({
    providerId: 'openai',
    spec: providerOpenAIWorker,
    fake,
    apiUrl: `${fake.url}/v1`,
    token: TOKEN,
    model: 'gpt-4.1',
    config: { base_url: `${fake.url}/v1`, discover_on_start: false, settings_wait_ms: 20_000 },
  });
});

afterAll(async () => {
  await harness?.shutdown();
  await f?.close();
  if (savedKey !== undefined) process.env.OPENAI_API_KEY = savedKey;
});

/** A harness again: the stand-in's resolve, with the stored key. */
const restartedHarness = () =>
  startTestWorker(
    {
      name: 'harness-again',
      description: 'the provider registry, back after a restart',
      config: z.object({}),
      register: (worker) =>
        worker.function(contracts.harness.providerResolve, ({ provider }) => ({
          provider,
          kind: 'cloud' as const,
          api_url: `${fake.url}/v1`,
          max_tokens: 4_096,
          credential: { configured: true, source: 'stored' as const, token: TOKEN },
        })),
    },
    { url: f.engine.url },
  );

it('a request while the harness restarts waits for it and then runs with its settings', async () => {
  fake.enqueue({ steps: [{ text: 'before' }] }, { steps: [{ text: 'after the restart' }], split: 1 });
  expect((await f.stream()).terminal).toMatchObject({ type: 'done' }); // the provider has seen its harness
  await f.standIns.shutdown(); // the harness is gone: its functions are unregistered

  const during = f.stream();
  // Still waiting: nothing reached the vendor, no terminal event yet.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(fake.requestsTo('/v1/chat/completions')).toHaveLength(1);
  harness = await restartedHarness();

  const { terminal } = await during;
  expect(terminal).toMatchObject({ type: 'done', message: { content: [{ type: 'text', text: 'after the restart' }] } });
  expect(fake.requestsTo('/v1/chat/completions').at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
});
