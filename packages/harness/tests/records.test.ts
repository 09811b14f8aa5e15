import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { type Config, harnessWorker } from '../src/index.js';

/**
 * Stored records are versioned: records written before they carried `v` (version 1, today's shape)
 * are read through the harness as they are and written stamped; a record of a newer version is
 * refused with a clear error and left as it was.
 */
const { harness, ui, engine: builtins } = contracts;

let engine: DevEngine;
let worker: TestWorker<Config>;
let client: TestClient;

const put = (scope: string, key: string, value: unknown) => client.bus.call(builtins.stateSet, { scope, key, value });
const stored = (scope: string, key: string) => client.bus.call(builtins.stateGet, { scope, key });

const oldDeclaration = {
  id: 'oldprov',
  display_name: 'Old Provider',
  default_url: 'http://127.0.0.1:9/v1',
  default_max_tokens: 4096,
  supports_model_listing: false,
  kind: 'local' as const,
  registered_at: 1000,
};
const oldSubscription = { client_id: 'old-client', all: false, session_ids: ['s1'], updated_at: 1000, seen_at: 1000 };
const oldAnswer = { session_id: 'old-session', turn_id: 'old-turn', merged: false };

beforeAll(async () => {
  engine = await startDevEngine();
  client = await connectClient(engine.url);
  // What an earlier harness stored, before records carried a version.
  await put('harness_providers', 'oldprov', oldDeclaration);
  await put('harness_ui_subscriptions', 'old-client', oldSubscription);
  await put('harness_sends', 'old-key', oldAnswer);
  worker = await startTestWorker(harnessWorker, {
    url: engine.url,
    config: { permissions_path: '/nonexistent/iii-permissions.yaml' },
  });
});

afterAll(async () => {
  await client.close();
  await worker.shutdown();
  await engine.close();
});

const refused = (what: string, where: string) => ({
  code: 'unavailable',
  reason: 'unsupported_record_version',
  message: `${what} at ${where} has version 99; this worker reads versions up to 1 (upgrade the worker)`,
});

describe('stored records are versioned', () => {
  it('reads a provider declaration written before versions, and stamps the ones it writes', async () => {
    const { providers } = await client.bus.call(harness.providerList, {});
    expect(providers).toEqual([{ ...oldDeclaration, api_url: 'http://127.0.0.1:9/v1', max_tokens: 4096 }]);
    const { registered_at: _at, ...declaration } = oldDeclaration;
    await client.bus.call(harness.providerRegister, { ...declaration, id: 'newprov' });
    expect(await stored('harness_providers', 'newprov')).toMatchObject({ v: 1, id: 'newprov', kind: 'local' });
  });

  it('reads a UI subscription written before versions, and stamps it when it changes it', async () => {
    const { subscriptions } = await client.bus.call(ui.subscribe, { client_id: 'old-client', session_id: 's2' });
    expect(subscriptions).toEqual({ all: false, session_ids: ['s1', 's2'] });
    expect(await stored('harness_ui_subscriptions', 'old-client')).toMatchObject({
      v: 1,
      client_id: 'old-client',
      session_ids: ['s1', 's2'],
    });
  });

  it('answers a send from an answer stored before versions', async () => {
    expect(await client.bus.call(harness.send, { text: 'again', idempotency_key: 'old-key' })).toEqual(oldAnswer);
  });

  it('refuses records of a newer version with a clear error, and leaves them as they were', async () => {
    const futureProvider = { v: 99, id: 'future', shape: 'from the future' };
    await put('harness_providers', 'future', futureProvider);
    await expect(client.bus.call(harness.providerList, {})).rejects.toMatchObject(
      refused('provider declaration', 'harness_providers'),
    );
    expect(await stored('harness_providers', 'future')).toEqual(futureProvider);
    await client.bus.call(builtins.stateDelete, { scope: 'harness_providers', key: 'future' });

    const futureSubscription = { v: 99, client_id: 'future-client', shape: 'from the future' };
    await put('harness_ui_subscriptions', 'future-client', futureSubscription);
    await expect(client.bus.call(ui.subscribe, { client_id: 'future-client', session_id: 's1' })).rejects.toMatchObject(
      refused('UI subscription', 'harness_ui_subscriptions'),
    );
    expect(await stored('harness_ui_subscriptions', 'future-client')).toEqual(futureSubscription);

    const futureAnswer = { v: 99, shape: 'from the future' };
    await put('harness_sends', 'future-key', futureAnswer);
    await expect(client.bus.call(harness.send, { text: 'again', idempotency_key: 'future-key' })).rejects.toMatchObject(
      refused('send answer', 'harness_sends/future-key'),
    );
    expect(await stored('harness_sends', 'future-key')).toEqual(futureAnswer);
  });
});
