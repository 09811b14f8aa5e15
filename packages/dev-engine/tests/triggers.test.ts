/**
 * Conformance: trigger registration — parking until a type appears, worker-provided trigger
 * types (forwarding, error acks, provider/originator disconnects), builtin rejections, and the
 * function form engine::register_trigger / engine::unregister_trigger.
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import {
  connectWorker,
  quietSdk,
  RawClient,
  sleep,
  startTestEngine,
  waitFor,
  waitForFunction,
} from './helpers/conformance.js';

let engine: RunningEngine;
let admin: IIIClient;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  admin = connectWorker(engine.url, 'admin');
});

afterAll(async () => {
  await admin.shutdown();
  await engine.close();
});

const registered = async (filter: Record<string, string>) =>
  (
    (await admin.trigger({ function_id: 'engine::registered-triggers::list', payload: filter })) as {
      registered_triggers: Array<{ id: string; trigger_type: string; config: unknown }>;
    }
  ).registered_triggers;

test('a trigger of an unknown type is parked silently, then delivered with the same id when the type registers', async () => {
  const originator = await RawClient.connect(engine.url);
  originator.send({ type: 'registerfunction', id: 'park::handler' });
  const tid = crypto.randomUUID();
  originator.send({
    type: 'registertrigger',
    id: tid,
    trigger_type: 'later::type',
    function_id: 'park::handler',
    config: { a: 1 },
    metadata: { m: true },
  });
  await sleep(100);
  expect(originator.frames.filter((f) => f.type === 'triggerregistrationresult')).toEqual([]); // no error frame

  const provider = await RawClient.connect(engine.url);
  provider.send({ type: 'registertriggertype', id: 'later::type', description: 'arrives later' });
  await expect(provider.next((f) => f.type === 'registertrigger')).resolves.toEqual({
    type: 'registertrigger',
    id: tid,
    trigger_type: 'later::type',
    function_id: 'park::handler',
    config: { a: 1 },
    metadata: { m: true },
  });
  expect((await registered({ trigger_type: 'later::type' })).map((t) => t.id)).toEqual([tid]);
  await originator.close();
  await provider.close();
});

describe('worker-provided trigger types', () => {
  test('bindings are forwarded to the provider, which fires them with trigger()', async () => {
    const provider = connectWorker(engine.url, 'webhook-provider');
    const bindings = new Map<string, { function_id: string; config: any }>();
    provider.registerTriggerType(
      { id: 'webhook', description: 'Webhook trigger' },
      {
        registerTrigger: async (t: any) => void bindings.set(t.id, t),
        unregisterTrigger: async (t: any) => void bindings.delete(t.id),
      },
    );
    const consumer = connectWorker(engine.url, 'webhook-consumer');
    const got: unknown[] = [];
    consumer.registerFunction(
      'consumer::on_hook',
      async (d: unknown, metadata: unknown) => void got.push({ d, metadata }),
    );
    const trig = consumer.registerTrigger({
      type: 'webhook',
      function_id: 'consumer::on_hook',
      config: { path: '/x' },
      metadata: { tag: 1 },
    });
    await waitFor(() => bindings.size === 1);
    const [binding] = [...bindings.values()];
    expect(binding).toMatchObject({ function_id: 'consumer::on_hook', config: { path: '/x' }, metadata: { tag: 1 } });
    await provider.trigger({ function_id: binding!.function_id, payload: { hello: 'hook' } });
    expect(got).toEqual([{ d: { hello: 'hook', _caller_worker_id: expect.any(String) }, metadata: undefined }]);

    trig.unregister();
    await waitFor(() => bindings.size === 0);

    // The originator disconnecting removes its bindings and tells the provider.
    consumer.registerTrigger({ type: 'webhook', function_id: 'consumer::on_hook', config: {} });
    await waitFor(() => bindings.size === 1);
    await consumer.shutdown();
    await waitFor(() => bindings.size === 0);
    await provider.shutdown();
  });

  test('an error ack from the provider parks the binding and is forwarded to the originator', async () => {
    const provider = await RawClient.connect(engine.url);
    provider.send({ type: 'registertriggertype', id: 'picky', description: 'rejects everything' });
    const originator = await RawClient.connect(engine.url);
    const tid = crypto.randomUUID();
    originator.send({ type: 'registertrigger', id: tid, trigger_type: 'picky', function_id: 'f', config: {} });
    const delivered = await provider.next((f) => f.type === 'registertrigger');
    // A success ack produces nothing; an error ack from someone else is ignored.
    const stranger = await RawClient.connect(engine.url);
    stranger.send({
      type: 'triggerregistrationresult',
      id: tid,
      trigger_type: 'picky',
      function_id: 'f',
      error: { code: 'x', message: 'not mine' },
    });
    await sleep(50);
    expect(originator.frames.filter((f) => f.type === 'triggerregistrationresult')).toEqual([]);
    provider.send({
      type: 'triggerregistrationresult',
      id: delivered.id,
      trigger_type: 'picky',
      function_id: 'f',
      error: { code: 'trigger_registration_failed', message: 'bad config' },
    });
    await expect(originator.next((f) => f.type === 'triggerregistrationresult')).resolves.toEqual({
      type: 'triggerregistrationresult',
      id: tid,
      trigger_type: 'picky',
      function_id: 'f',
      error: { code: 'trigger_registration_failed', message: 'bad config' },
    });
    expect(await registered({ trigger_type: 'picky' })).toEqual([]);
    await Promise.all([provider.close(), originator.close(), stranger.close()]);
  });

  test('when the provider disconnects, bindings are parked and re-delivered (same ids) to the next provider', async () => {
    const first = await RawClient.connect(engine.url);
    first.send({ type: 'registertriggertype', id: 'relay', description: 'relay' });
    const originator = await RawClient.connect(engine.url);
    const tid = crypto.randomUUID();
    originator.send({ type: 'registertrigger', id: tid, trigger_type: 'relay', function_id: 'f', config: { n: 1 } });
    await first.next((f) => f.type === 'registertrigger');
    await first.close();
    await waitFor(async () => (await registered({ trigger_type: 'relay' })).length === 0);
    const second = await RawClient.connect(engine.url);
    second.send({ type: 'registertriggertype', id: 'relay', description: 'relay v2' });
    await expect(second.next((f) => f.type === 'registertrigger')).resolves.toMatchObject({
      id: tid,
      config: { n: 1 },
    });
    await Promise.all([second.close(), originator.close()]);
  });

  test('re-registering a type replaces it and replays live bindings to the new provider', async () => {
    const a = await RawClient.connect(engine.url);
    a.send({ type: 'registertriggertype', id: 'swap', description: 'v1' });
    const originator = await RawClient.connect(engine.url);
    const tid = crypto.randomUUID();
    originator.send({ type: 'registertrigger', id: tid, trigger_type: 'swap', function_id: 'f', config: {} });
    await a.next((f) => f.type === 'registertrigger');
    const b = await RawClient.connect(engine.url);
    b.send({ type: 'registertriggertype', id: 'swap', description: 'v2' });
    await expect(b.next((f) => f.type === 'registertrigger')).resolves.toMatchObject({ id: tid });
    const info = (await admin.trigger({ function_id: 'engine::triggers::info', payload: { id: 'swap' } })) as {
      description: string;
      instance_count: number;
    };
    expect(info).toMatchObject({ description: 'v2', instance_count: 1 });
    await Promise.all([a.close(), b.close(), originator.close()]);
  });
});

test('a builtin provider rejecting the config answers trigger_registration_failed to the originator', async () => {
  const raw = await RawClient.connect(engine.url);
  const tid = crypto.randomUUID();
  raw.send({
    type: 'registertrigger',
    id: tid,
    trigger_type: 'cron',
    function_id: 'f',
    config: { expression: 'not a cron' },
  });
  const frame = await raw.next((f) => f.type === 'triggerregistrationresult');
  expect(frame).toMatchObject({
    id: tid,
    trigger_type: 'cron',
    function_id: 'f',
    error: { code: 'trigger_registration_failed', message: expect.any(String) },
  });
  const missing = crypto.randomUUID();
  raw.send({ type: 'registertrigger', id: missing, trigger_type: 'cron', function_id: 'f', config: {} });
  await expect(raw.next((f) => f.type === 'triggerregistrationresult' && f.id === missing)).resolves.toMatchObject({
    error: { code: 'trigger_registration_failed' },
  });
  await raw.close();
});

test('unregistertrigger needs no ownership and ignores unknown ids', async () => {
  const owner = await RawClient.connect(engine.url);
  const tid = crypto.randomUUID();
  owner.send({ type: 'registertrigger', id: tid, trigger_type: 'subscribe', function_id: 'f', config: { topic: 't' } });
  await waitFor(async () => (await registered({ trigger_type: 'subscribe' })).some((t) => t.id === tid));
  const other = await RawClient.connect(engine.url);
  other.send({ type: 'unregistertrigger', id: crypto.randomUUID() });
  other.send({ type: 'unregistertrigger', id: tid, trigger_type: 'subscribe' });
  await waitFor(async () => !(await registered({ trigger_type: 'subscribe' })).some((t) => t.id === tid));
  await Promise.all([owner.close(), other.close()]);
});

describe('engine::register_trigger (ownerless)', () => {
  test('creates a trigger that survives its creator disconnecting; unregister_trigger removes it', async () => {
    const creator = connectWorker(engine.url, 'creator');
    const target = connectWorker(engine.url, 'target');
    const hits: unknown[] = [];
    target.registerFunction('target::on_pub', async (d: unknown) => void hits.push(d));
    await waitForFunction(creator, 'target::on_pub');
    const { id } = (await creator.trigger({
      function_id: 'engine::register_trigger',
      payload: { trigger_type: 'subscribe', function_id: 'target::on_pub', config: { topic: 'ownerless' } },
    })) as { id: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await creator.shutdown();
    await sleep(50);
    await admin.trigger({ function_id: 'publish', payload: { topic: 'ownerless', data: { n: 1 } } });
    await waitFor(() => hits.length === 1);
    await expect(admin.trigger({ function_id: 'engine::unregister_trigger', payload: { id } })).resolves.toEqual({
      removed: true,
    });
    await expect(admin.trigger({ function_id: 'engine::unregister_trigger', payload: { id } })).resolves.toEqual({
      removed: false,
    });
    await target.shutdown();
  });

  test('a builtin rejection is a trigger_registration_failed error', async () => {
    await expect(
      admin.trigger({
        function_id: 'engine::register_trigger',
        payload: { trigger_type: 'cron', function_id: 'x', config: { expression: '* *' } },
      }),
    ).rejects.toMatchObject({ code: 'trigger_registration_failed' });
  });

  test('a worker provider is waited for: its error ack fails the call', async () => {
    const provider = connectWorker(engine.url, 'strict-provider');
    provider.registerTriggerType(
      { id: 'strict', description: 'strict' },
      {
        registerTrigger: async (t: any) => {
          if (!t.config?.ok) throw new Error('config.ok required');
        },
        unregisterTrigger: async () => undefined,
      },
    );
    await waitFor(async () =>
      (
        (await admin.trigger({ function_id: 'engine::triggers::list', payload: {} })) as {
          triggers: Array<{ id: string }>;
        }
      ).triggers.some((t) => t.id === 'strict'),
    );
    await expect(
      admin.trigger({
        function_id: 'engine::register_trigger',
        payload: { trigger_type: 'strict', function_id: 'x', config: {} },
      }),
    ).rejects.toMatchObject({
      code: 'trigger_registration_failed',
      message: 'trigger_registration_failed: config.ok required',
    });
    await expect(
      admin.trigger({
        function_id: 'engine::register_trigger',
        payload: { trigger_type: 'strict', function_id: 'x', config: { ok: true } },
      }),
    ).resolves.toEqual({ id: expect.any(String) });
    await provider.shutdown();
  });
});
