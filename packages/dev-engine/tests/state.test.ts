/**
 * Conformance: state::* result shapes, every update op through state::update, and the
 * `state` trigger (event shape, filters, condition_function_id).
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';

let engine: RunningEngine;
let w: IIIClient;
const call = (function_id: string, payload: unknown) => w.trigger({ function_id, payload });

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  w = connectWorker(engine.url, 'state-tester');
});

afterAll(async () => {
  await w.shutdown();
  await engine.close();
});

test('set returns {old_value, new_value}; get returns the raw value; missing -> undefined', async () => {
  await expect(call('state::set', { scope: 'users', key: 'u1', value: { name: 'Ada' } })).resolves.toEqual({
    old_value: null,
    new_value: { name: 'Ada' },
  });
  await expect(call('state::set', { scope: 'users', key: 'u1', data: { name: 'Bob' } })).resolves.toEqual({
    old_value: { name: 'Ada' },
    new_value: { name: 'Bob' },
  });
  await expect(call('state::get', { scope: 'users', key: 'u1' })).resolves.toEqual({ name: 'Bob' });
  await expect(call('state::get', { scope: 'users', key: 'nope' })).resolves.toBeUndefined();
});

test('delete returns the raw old value (not {old_value}), undefined when missing', async () => {
  await call('state::set', { scope: 'del', key: 'k', value: [1, 2] });
  await expect(call('state::delete', { scope: 'del', key: 'k' })).resolves.toEqual([1, 2]);
  await expect(call('state::delete', { scope: 'del', key: 'k' })).resolves.toBeUndefined();
  await expect(call('state::get', { scope: 'del', key: 'k' })).resolves.toBeUndefined();
});

test('list returns the values of a scope; list_groups returns {groups} sorted and unique', async () => {
  await call('state::set', { scope: 'g-b', key: '1', value: 'x' });
  await call('state::set', { scope: 'g-b', key: '2', value: 'y' });
  await call('state::set', { scope: 'g-a', key: '1', value: 'z' });
  expect(((await call('state::list', { scope: 'g-b' })) as string[]).sort()).toEqual(['x', 'y']);
  await expect(call('state::list', { scope: 'empty' })).resolves.toEqual([]);
  const { groups } = (await call('state::list_groups', {})) as { groups: string[] };
  expect(groups).toEqual([...groups].sort());
  expect(groups.filter((g) => g.startsWith('g-'))).toEqual(['g-a', 'g-b']);
});

test('bad input gives deserialization_error', async () => {
  await expect(call('state::set', { scope: 's', value: 1 })).rejects.toMatchObject({
    code: 'deserialization_error',
    message: expect.stringContaining('missing field `key`'),
  });
  await expect(call('state::get', { scope: 1, key: 'k' })).rejects.toMatchObject({ code: 'deserialization_error' });
  await expect(call('state::update', { scope: 's', key: 'k', ops: [{ type: 'explode' }] })).rejects.toMatchObject({
    code: 'deserialization_error',
  });
});

describe('state::update ops', () => {
  const update = (key: string, ops: unknown[]) => call('state::update', { scope: 'ops', key, ops }) as Promise<any>;

  test('on a missing key the value starts as {}; increment creates by, decrement -by', async () => {
    await expect(
      update('counters', [
        { type: 'increment', path: 'hits', by: 2 },
        { type: 'decrement', path: 'misses', by: 3 },
      ]),
    ).resolves.toEqual({ old_value: null, new_value: { hits: 2, misses: -3 } });
    await expect(update('counters', [{ type: 'increment', path: 'hits', by: 5 }])).resolves.toEqual({
      old_value: { hits: 2, misses: -3 },
      new_value: { hits: 7, misses: -3 },
    });
  });

  test('old_value is the value before the ops, nested parts included; the update is stored', async () => {
    await call('state::set', { scope: 'ops', key: 'nested', value: { list: [1], inner: { n: 1 } } });
    await expect(
      update('nested', [
        { type: 'append', path: 'list', value: 2 },
        { type: 'merge', path: ['inner'], value: { m: 2 } },
      ]),
    ).resolves.toEqual({
      old_value: { list: [1], inner: { n: 1 } },
      new_value: { list: [1, 2], inner: { n: 1, m: 2 } },
    });
    await expect(call('state::get', { scope: 'ops', key: 'nested' })).resolves.toEqual({
      list: [1, 2],
      inner: { n: 1, m: 2 },
    });
  });

  test('set: a top-level key (dots are literal), "" replaces the root', async () => {
    const r = await update('set', [
      { type: 'set', path: 'a.b', value: 1 },
      { type: 'set', path: 'c', value: { d: true } },
    ]);
    expect(r.new_value).toEqual({ 'a.b': 1, c: { d: true } });
    await expect(update('set', [{ type: 'set', path: '', value: 'root' }])).resolves.toMatchObject({
      new_value: 'root',
    });
    const bad = await update('set', [{ type: 'set', path: 'x', value: 1 }]);
    expect(bad.new_value).toBe('root');
    expect(bad.errors).toEqual([
      {
        op_index: 0,
        code: 'set.target_not_object',
        message: "Cannot set at path 'x': target is string, expected object.",
        doc_url: expect.any(String),
      },
    ]);
  });

  test('merge: shallow at the root, nested paths create intermediates, non-objects rejected', async () => {
    await update('merge', [{ type: 'set', path: 'keep', value: 1 }]);
    const r = await update('merge', [
      { type: 'merge', value: { a: 1 } },
      { type: 'merge', path: ['deep', 'er'], value: { b: 2 } },
      { type: 'merge', path: 'single', value: { c: 3 } },
      { type: 'merge', value: 'nope' },
      { type: 'merge', path: ['__proto__'], value: { x: 1 } },
    ]);
    expect(r.new_value).toEqual({ keep: 1, a: 1, deep: { er: { b: 2 } }, single: { c: 3 } });
    expect(r.errors.map((e: { op_index: number; code: string }) => [e.op_index, e.code])).toEqual([
      [3, 'merge.value.not_an_object'],
      [4, 'merge.path.proto_polluted'],
    ]);
  });

  test('append: arrays push, strings concatenate, missing keys start by value kind, mismatches fail', async () => {
    const r = await update('append', [
      { type: 'append', path: 'list', value: { n: 1 } },
      { type: 'append', path: 'list', value: { n: 2 } },
      { type: 'append', path: 'text', value: 'hello' },
      { type: 'append', path: 'text', value: ' world' },
      { type: 'append', path: ['nested', 'items'], value: 'x' },
      { type: 'append', path: 'text', value: 5 },
      { type: 'set', path: 'obj', value: {} },
      { type: 'append', path: 'obj', value: 'y' },
    ]);
    expect(r.new_value).toEqual({ list: [{ n: 1 }, { n: 2 }], text: 'hello world', nested: { items: ['x'] }, obj: {} });
    expect(r.errors.map((e: { op_index: number; code: string }) => [e.op_index, e.code])).toEqual([
      [5, 'append.type_mismatch'],
      [7, 'append.type_mismatch'],
    ]);
  });

  test('increment/decrement on a non-number fail with *.not_number; other ops still apply', async () => {
    await update('num', [{ type: 'set', path: 'name', value: 'x' }]);
    const r = await update('num', [
      { type: 'increment', path: 'name', by: 1 },
      { type: 'decrement', path: 'name', by: 1 },
      { type: 'increment', path: 'ok', by: 1 },
    ]);
    expect(r.new_value).toEqual({ name: 'x', ok: 1 });
    expect(r.errors.map((e: { code: string }) => e.code)).toEqual(['increment.not_number', 'decrement.not_number']);
  });

  test('remove deletes a top-level key; "" makes the root null', async () => {
    await update('rm', [
      { type: 'set', path: 'a', value: 1 },
      { type: 'set', path: 'b', value: 2 },
    ]);
    await expect(update('rm', [{ type: 'remove', path: 'a' }])).resolves.toMatchObject({ new_value: { b: 2 } });
    await expect(update('rm', [{ type: 'remove', path: '' }])).resolves.toMatchObject({ new_value: null });
  });

  test('no errors field when every op succeeded', async () => {
    const r = await update('clean', [{ type: 'set', path: 'a', value: 1 }]);
    expect(r).not.toHaveProperty('errors');
  });
});

describe('state trigger', () => {
  const events: any[] = [];
  const filtered: any[] = [];
  const metas: unknown[] = [];
  let handler: IIIClient;

  beforeAll(async () => {
    handler = connectWorker(engine.url, 'state-handler');
    handler.registerFunction('h::all', async (e: any, metadata: unknown) => {
      if (e.scope === 'watched') {
        events.push(e);
        metas.push(metadata);
      }
    });
    handler.registerFunction('h::key_only', async (e: unknown) => void filtered.push(e));
    handler.registerFunction('h::only_big', async (e: any) => (e.new_value?.n ?? 0) > 10);
    handler.registerFunction('h::conditional', async (e: unknown) => void filtered.push({ conditional: e }));
    handler.registerTrigger({
      type: 'state',
      function_id: 'h::all',
      config: { scope: 'watched' },
      metadata: { via: 'state' },
    });
    handler.registerTrigger({
      type: 'state',
      function_id: 'h::key_only',
      config: { scope: 'watched', key: 'special' },
    });
    handler.registerTrigger({
      type: 'state',
      function_id: 'h::conditional',
      config: { scope: 'cond', condition_function_id: 'h::only_big' },
    });
    await waitForFunction(w, 'h::conditional');
    await sleep(50);
  });

  afterAll(() => handler.shutdown());

  test('created / updated / deleted events with the engine shape, and trigger metadata', async () => {
    await call('state::set', { scope: 'watched', key: 'k', value: { v: 1 } });
    await waitFor(() => events.length === 1);
    await call('state::update', { scope: 'watched', key: 'k', ops: [{ type: 'set', path: 'v', value: 2 }] });
    await waitFor(() => events.length === 2);
    await call('state::delete', { scope: 'watched', key: 'k' });
    await waitFor(() => events.length === 3);
    expect(events).toEqual([
      { type: 'state', event_type: 'state:created', scope: 'watched', key: 'k', old_value: null, new_value: { v: 1 } },
      {
        type: 'state',
        event_type: 'state:updated',
        scope: 'watched',
        key: 'k',
        old_value: { v: 1 },
        new_value: { v: 2 },
      },
      { type: 'state', event_type: 'state:deleted', scope: 'watched', key: 'k', old_value: { v: 2 }, new_value: null },
    ]);
    expect(metas).toEqual([{ via: 'state' }, { via: 'state' }, { via: 'state' }]);
  });

  test('scope and key filters', async () => {
    filtered.length = 0;
    await call('state::set', { scope: 'watched', key: 'other', value: 1 });
    await call('state::set', { scope: 'watched', key: 'special', value: 2 });
    await call('state::set', { scope: 'elsewhere', key: 'special', value: 3 });
    await waitFor(() => filtered.length === 1);
    await sleep(50);
    expect(filtered).toEqual([expect.objectContaining({ key: 'special', new_value: 2, scope: 'watched' })]);
  });

  test('condition_function_id: only an exact false skips the handler', async () => {
    filtered.length = 0;
    await call('state::set', { scope: 'cond', key: 'a', value: { n: 1 } });
    await call('state::set', { scope: 'cond', key: 'b', value: { n: 50 } });
    await waitFor(() => filtered.length === 1);
    await sleep(50);
    expect(filtered).toEqual([{ conditional: expect.objectContaining({ key: 'b' }) }]);
  });
});
