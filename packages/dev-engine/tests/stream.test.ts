/**
 * Conformance: stream::* result shapes, custom stream implementations
 * (`stream::<op>(<name>)`, as createStream registers them) and the `stream` trigger.
 */
import type { IIIClient } from 'iii-sdk';
import { createStream } from 'iii-sdk/helpers';
import type { RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';

let engine: RunningEngine;
let w: IIIClient;
const call = (function_id: string, payload: unknown) => w.trigger({ function_id, payload }) as Promise<any>;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  w = connectWorker(engine.url, 'stream-tester');
});

afterAll(async () => {
  await w.shutdown();
  await engine.close();
});

test('set / get / delete / list / list_groups / list_all shapes', async () => {
  const at = { stream_name: 'chat', group_id: 'room-1', item_id: 'm1' };
  await expect(call('stream::set', { ...at, data: { text: 'hi' } })).resolves.toEqual({
    old_value: null,
    new_value: { text: 'hi' },
  });
  await expect(call('stream::set', { ...at, data: { text: 'hi!' } })).resolves.toEqual({
    old_value: { text: 'hi' },
    new_value: { text: 'hi!' },
  });
  await expect(call('stream::get', at)).resolves.toEqual({ text: 'hi!' });
  await expect(call('stream::get', { ...at, item_id: 'none' })).resolves.toBeUndefined();
  await call('stream::set', { stream_name: 'chat', group_id: 'room-2', item_id: 'm9', data: 1 });
  await expect(call('stream::list', { stream_name: 'chat', group_id: 'room-1' })).resolves.toEqual([{ text: 'hi!' }]);
  await expect(call('stream::list_groups', { stream_name: 'chat' })).resolves.toEqual(['room-1', 'room-2']);
  await expect(call('stream::list_all', {})).resolves.toEqual({
    stream: [{ id: 'chat', groups: ['room-1', 'room-2'] }],
    count: 1,
  });
  await expect(call('stream::delete', at)).resolves.toEqual({ old_value: { text: 'hi!' } });
  await expect(call('stream::delete', at)).resolves.toEqual({ old_value: null });
  await expect(call('stream::update', { ...at, ops: [{ type: 'increment', path: 'n', by: 1 }] })).resolves.toEqual({
    old_value: null,
    new_value: { n: 1 },
  });
  await expect(
    call('stream::send', { stream_name: 'chat', group_id: 'room-1', type: 'typing', data: {} }),
  ).resolves.toBeNull();
});

test('update returns the item as it was before the ops as old_value, nested parts included', async () => {
  const at = { stream_name: 'chat', group_id: 'room-3', item_id: 'm1' };
  await call('stream::set', { ...at, data: { meta: { a: 1 }, tags: ['x'] } });
  await expect(
    call('stream::update', {
      ...at,
      ops: [
        { type: 'merge', path: ['meta'], value: { b: 2 } },
        { type: 'append', path: 'tags', value: 'y' },
      ],
    }),
  ).resolves.toEqual({
    old_value: { meta: { a: 1 }, tags: ['x'] },
    new_value: { meta: { a: 1, b: 2 }, tags: ['x', 'y'] },
  });
  await expect(call('stream::get', at)).resolves.toEqual({ meta: { a: 1, b: 2 }, tags: ['x', 'y'] });
});

test('the stream trigger: camelCase events for create, update, delete and custom events', async () => {
  const events: any[] = [];
  const listener = connectWorker(engine.url, 'stream-listener');
  listener.registerFunction('listener::on_stream', async (e: unknown) => void events.push(e));
  listener.registerTrigger({
    type: 'stream',
    function_id: 'listener::on_stream',
    config: { stream_name: 'orders', group_id: 'g1' },
  });
  await waitForFunction(w, 'listener::on_stream');
  await sleep(50);

  const at = { stream_name: 'orders', group_id: 'g1', item_id: 'o1' };
  await call('stream::set', { ...at, data: { total: 1 } });
  await call('stream::update', { ...at, ops: [{ type: 'set', path: 'total', value: 2 }] });
  await call('stream::send', { stream_name: 'orders', group_id: 'g1', type: 'shipped', data: { by: 'post' } });
  await call('stream::delete', at);
  await call('stream::delete', at); // nothing deleted: no event
  await call('stream::set', { ...at, group_id: 'other-group', data: 1 }); // filtered out by group_id
  await waitFor(() => events.length === 4);
  await sleep(50);
  expect(events).toHaveLength(4);
  const common = { type: 'stream', timestamp: expect.any(Number), streamName: 'orders', groupId: 'g1' };
  expect(events).toEqual([
    { ...common, id: 'o1', event: { type: 'create', data: { total: 1 } } },
    { ...common, id: 'o1', event: { type: 'update', data: { total: 2 } } },
    { ...common, id: null, event: { type: 'event', event: { type: 'shipped', data: { by: 'post' } } } },
    { ...common, id: 'o1', event: { type: 'delete', data: { total: 2 } } },
  ]);
  await listener.shutdown();
});

test('a stream trigger without stream_name is rejected', async () => {
  await expect(
    call('engine::register_trigger', { trigger_type: 'stream', function_id: 'x', config: {} }),
  ).rejects.toMatchObject({ code: 'trigger_registration_failed' });
});

test('custom stream implementations (createStream) take over the builtin ops', async () => {
  const provider = connectWorker(engine.url, 'custom-stream');
  const items = new Map<string, unknown>();
  const seen: any[] = [];
  createStream(provider, 'custom', {
    get: async (input: any) => {
      seen.push(['get', input]);
      return items.get(input.item_id);
    },
    set: async (input: any) => {
      seen.push(['set', input]);
      const old_value = items.get(input.item_id) ?? null;
      items.set(input.item_id, input.data);
      return { old_value, new_value: input.data };
    },
    delete: async (input: any) => {
      const old_value = items.get(input.item_id) ?? null;
      items.delete(input.item_id);
      return { old_value };
    },
    list: async () => [...items.values()],
    listGroups: async () => ['only-group'],
  } as any);
  await waitForFunction(w, 'stream::list_groups(custom)');
  const at = { stream_name: 'custom', group_id: 'g', item_id: 'i' };
  await expect(call('stream::set', { ...at, data: 'v1' })).resolves.toEqual({ old_value: null, new_value: 'v1' });
  expect(seen[0]).toEqual(['set', { ...at, data: 'v1' }]); // the engine passes its own input struct
  await expect(call('stream::get', at)).resolves.toBe('v1');
  await expect(call('stream::list', { stream_name: 'custom', group_id: 'g' })).resolves.toEqual(['v1']);
  await expect(call('stream::list_groups', { stream_name: 'custom' })).resolves.toEqual(['only-group']);
  await expect(call('stream::delete', at)).resolves.toEqual({ old_value: 'v1' });
  // Nothing reached the builtin store.
  await expect(call('stream::list_all', {})).resolves.not.toMatchObject({
    stream: expect.arrayContaining([expect.objectContaining({ id: 'custom' })]),
  });
  await provider.shutdown();
});
