import {
  codeOf,
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts, type Model } from '@iii-harness/types';
import { type Config, modelsCatalogWorker } from '../src/index.js';

const sonnet: Model = {
  id: 'claude-sonnet-4-5',
  provider: 'anthropic',
  context_window: 200_000,
  max_output_tokens: 64_000,
  capabilities: ['tools', 'thinking', 'images', 'prompt_caching'],
  pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
};
const haiku: Model = {
  ...sonnet,
  id: 'claude-haiku-4-5',
  capabilities: ['tools', 'images'],
  pricing: { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25 },
};
const gpt: Model = {
  id: 'gpt-4.1',
  provider: 'openai',
  context_window: 1_047_576,
  max_output_tokens: 32_768,
  capabilities: ['tools', 'images'],
};

let engine: DevEngine;
let worker: TestWorker<Config>;
let client: TestClient;

beforeAll(async () => {
  engine = await startDevEngine();
  worker = await startTestWorker(modelsCatalogWorker, { url: engine.url });
  client = await connectClient(engine.url);
});

afterAll(async () => {
  await client.close();
  await worker.shutdown();
  await engine.close();
});

const { models } = contracts;

describe('models-catalog', () => {
  it('documents every function with a description and both schemas', async () => {
    for (const { id } of Object.values(models)) {
      const info = await client.bus.call(contracts.engine.functionsInfo, { function_id: id });
      expect(info.description).toEqual(expect.any(String));
      expect(info.request_schema).toMatchObject({ type: 'object' });
      expect(info.response_schema).toMatchObject({ type: 'object' });
    }
  });

  it('holds only what providers registered (no seed)', async () => {
    expect(await client.bus.call(models.list, {})).toEqual({ models: [] });
  });

  it('reconciles, lists in a stable order, filters, gets and answers supports', async () => {
    const result = await client.bus.call(models.reconcile, { provider: 'anthropic', models: [sonnet, haiku] });
    expect(result).toMatchObject({
      provider: 'anthropic',
      count: 2,
      ids: ['claude-haiku-4-5', 'claude-sonnet-4-5'],
      added: ['claude-haiku-4-5', 'claude-sonnet-4-5'],
      removed: [],
      updated: [],
    });
    await client.bus.call(models.reconcile, { provider: 'openai', models: [gpt] });

    const all = await client.bus.call(models.list, {});
    expect(all.models.map((m) => `${m.provider}/${m.id}`)).toEqual([
      'anthropic/claude-haiku-4-5',
      'anthropic/claude-sonnet-4-5',
      'openai/gpt-4.1',
    ]);
    expect((await client.bus.call(models.list, { provider: 'openai' })).models).toEqual([gpt]);
    expect((await client.bus.call(models.list, { capability: 'thinking' })).models.map((m) => m.id)).toEqual([
      'claude-sonnet-4-5',
    ]);

    expect(await client.bus.call(models.get, { provider: 'anthropic', model_id: 'claude-sonnet-4-5' })).toEqual({
      model: sonnet,
    });
    expect(await codeOf(client.bus.call(models.get, { provider: 'anthropic', model_id: 'nope' }))).toBe('not_found');

    expect(
      await client.bus.call(models.supports, {
        provider: 'anthropic',
        model_id: 'claude-sonnet-4-5',
        capability: 'thinking',
      }),
    ).toEqual({ supported: true, known: true });
    expect(
      await client.bus.call(models.supports, {
        provider: 'anthropic',
        model_id: 'claude-haiku-4-5',
        capability: 'thinking',
      }),
    ).toEqual({ supported: false, known: true });
    expect(await client.bus.call(models.supports, { provider: 'kimi', model_id: 'k2', capability: 'tools' })).toEqual({
      supported: false,
      known: false,
    });
  });

  it("replaces a provider's models and reports the difference", async () => {
    const cheaper = { ...haiku, pricing: { input: 0.8, output: 4, cache_read: 0.08, cache_write: 1 } };
    const result = await client.bus.call(models.reconcile, { provider: 'anthropic', models: [cheaper] });
    expect(result).toMatchObject({
      count: 1,
      added: [],
      removed: ['claude-sonnet-4-5'],
      updated: ['claude-haiku-4-5'],
    });
    expect((await client.bus.call(models.list, { provider: 'anthropic' })).models).toEqual([cheaper]);
  });

  it("publishes a change event only when a provider's models change", async () => {
    const seen: unknown[] = [];
    client.client.registerFunction('test::models_changed', async (event: unknown) => void seen.push(event));
    client.client.registerTrigger({
      type: 'subscribe',
      function_id: 'test::models_changed',
      config: { topic: 'models::changed' },
    });
    await client.bus.call(contracts.engine.functionsList, {}); // the trigger is registered once this round trip returns

    await client.bus.call(models.reconcile, {
      provider: 'kimi',
      models: [{ ...gpt, id: 'kimi-k2', provider: 'kimi' }],
    });
    await eventually(() => expect(seen).toEqual([{ provider: 'kimi', added: ['kimi-k2'], removed: [], updated: [] }]));
    await client.bus.call(models.reconcile, {
      provider: 'kimi',
      models: [{ ...gpt, id: 'kimi-k2', provider: 'kimi' }],
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seen).toHaveLength(1);
  });

  it('rejects models of another provider and changes nothing', async () => {
    const before = await client.bus.call(models.list, {});
    const error = await client.bus
      .call(models.reconcile, { provider: 'openai', models: [gpt, sonnet] })
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'invalid_payload' });
    expect(error.message).toContain('belongs to anthropic');
    expect(await client.bus.call(models.list, {})).toEqual(before);
  });

  it.each([
    ['models::list', { capability: 'telepathy' }],
    ['models::list', { provider: '' }],
    ['models::get', { provider: 'anthropic' }],
    ['models::supports', { provider: 'anthropic', model_id: 'x', capability: 'flight' }],
    ['models::reconcile', { provider: 'openai', models: [{ ...gpt, context_window: -5 }] }],
    ['models::reconcile', { provider: 'openai', models: [gpt, gpt] }],
    ['models::reconcile', { provider: 'openai' }],
  ])('%s rejects malformed input %j with invalid_payload and changes nothing', async (id, payload) => {
    const before = await client.bus.call(models.list, {});
    expect(await codeOf(client.bus.invoke(id, payload))).toBe('invalid_payload');
    expect(await client.bus.call(models.list, {})).toEqual(before);
  });

  it('keeps the catalog across a restart of the worker', async () => {
    const before = await client.bus.call(models.list, {});
    await worker.shutdown();
    worker = await startTestWorker(modelsCatalogWorker, { url: engine.url });
    await eventually(async () => expect(await client.bus.call(models.list, {})).toEqual(before));
    expect(before.models.length).toBeGreaterThan(0);
  });
});
