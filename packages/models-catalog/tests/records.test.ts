import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts, type Model } from '@iii-harness/types';
import { type Config, modelsCatalogWorker } from '../src/index.js';

/**
 * A provider's stored models are versioned: version 1 was the bare list, version 2 is `{v, models}`.
 * A version 1 record is read through the worker as the current shape; one of a newer version is
 * refused with a clear error and left as it was.
 */
const { models, engine: builtins } = contracts;
const SCOPE = 'models';

const sonnet: Model = {
  id: 'claude-sonnet-4-5',
  provider: 'anthropic',
  context_window: 200_000,
  max_output_tokens: 64_000,
  capabilities: ['tools', 'thinking'],
  pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
};
const local: Model = {
  id: 'qwen',
  provider: 'lmstudio',
  context_window: 32_768,
  max_output_tokens: 4_096,
  capabilities: ['tools'],
};

let engine: DevEngine;
let worker: TestWorker<Config>;
let client: TestClient;

const put = (key: string, value: unknown) => client.bus.call(builtins.stateSet, { scope: SCOPE, key, value });
const stored = (key: string) => client.bus.call(builtins.stateGet, { scope: SCOPE, key });

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

describe('stored model lists are versioned', () => {
  it('reads a version 1 list (a bare array) and writes version 2 on the next reconcile', async () => {
    await put('anthropic', [sonnet]);
    await put('lmstudio', { v: 2, models: [local] });
    expect(await client.bus.call(models.list, {})).toEqual({ models: [sonnet, local] });
    expect(await client.bus.call(models.get, { provider: 'anthropic', model_id: 'claude-sonnet-4-5' })).toEqual({
      model: sonnet,
    });
    expect(
      await client.bus.call(models.supports, { provider: 'anthropic', model_id: sonnet.id, capability: 'thinking' }),
    ).toEqual({ supported: true, known: true });

    // The reconcile reads the old list to report what changed, and stores the current version.
    const haiku: Model = { ...sonnet, id: 'claude-haiku-4-5' };
    const changes = await client.bus.call(models.reconcile, { provider: 'anthropic', models: [sonnet, haiku] });
    expect(changes).toMatchObject({ count: 2, added: ['claude-haiku-4-5'], removed: [], updated: [] });
    expect(changes.ids).toEqual(['claude-haiku-4-5', 'claude-sonnet-4-5']);
    expect(await stored('anthropic')).toEqual({ v: 2, models: [haiku, sonnet] });
  });

  it('refuses a list of a newer version with a clear error, and leaves it as it was', async () => {
    const future = { v: 99, entries: [{ shape: 'from the future' }] };
    await put('future', future);
    const refused = {
      code: 'unavailable',
      reason: 'unsupported_record_version',
      message: 'model list at models/future has version 99; this worker reads versions up to 2 (upgrade the worker)',
    };
    await expect(client.bus.call(models.get, { provider: 'future', model_id: 'x' })).rejects.toMatchObject(refused);
    await expect(client.bus.call(models.list, {})).rejects.toMatchObject({
      code: 'unavailable',
      reason: 'unsupported_record_version',
    });
    expect(await stored('future')).toEqual(future);
  });
});
