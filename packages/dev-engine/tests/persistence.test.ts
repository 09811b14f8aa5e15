/**
 * Persistence: state and streams live in SQLite under --data-dir; an acknowledged write is
 * committed before the reply, and a restart on the same directory finds everything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connectWorker, quietSdk, sqliteOnlyTest, startTestEngine } from './helpers/conformance.js';

let dir: string;

beforeAll(() => {
  quietSdk();
  dir = mkdtempSync(join(tmpdir(), 'iii-dev-engine-data-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Reads the SQLite file itself: not what the Redis variant of the suite stores.
sqliteOnlyTest('state and streams survive a restart on the same data dir', async () => {
  const first = await startTestEngine({ memory: false, dataDir: dir });
  const w1 = connectWorker(first.url, 'writer');
  await w1.trigger({ function_id: 'state::set', payload: { scope: 'sessions', key: 's1', value: { turns: 3 } } });
  await w1.trigger({
    function_id: 'state::update',
    payload: { scope: 'sessions', key: 's1', ops: [{ type: 'increment', path: 'turns', by: 1 }] },
  });
  await w1.trigger({
    function_id: 'stream::set',
    payload: { stream_name: 'events', group_id: 's1', item_id: 'e1', data: { kind: 'start' } },
  });

  // Acknowledged means committed: another connection to the file already sees the write.
  const peek = new Database(join(dir, 'engine.db'), { readonly: true });
  expect(
    JSON.parse(
      (peek.prepare("SELECT value FROM state_kv WHERE scope = 'sessions' AND key = 's1'").get() as { value: string })
        .value,
    ),
  ).toEqual({ turns: 4 });
  expect(peek.pragma('journal_mode', { simple: true })).toBe('wal');
  peek.close();

  await w1.shutdown();
  await first.close();

  const second = await startTestEngine({ memory: false, dataDir: dir });
  const w2 = connectWorker(second.url, 'reader');
  await expect(w2.trigger({ function_id: 'state::get', payload: { scope: 'sessions', key: 's1' } })).resolves.toEqual({
    turns: 4,
  });
  await expect(
    w2.trigger({ function_id: 'stream::get', payload: { stream_name: 'events', group_id: 's1', item_id: 'e1' } }),
  ).resolves.toEqual({ kind: 'start' });
  await expect(w2.trigger({ function_id: 'state::list_groups', payload: {} })).resolves.toEqual({
    groups: ['sessions'],
  });
  await w2.shutdown();
  await second.close();
});

sqliteOnlyTest('--memory keeps nothing across restarts', async () => {
  const first = await startTestEngine({ memory: true });
  const w1 = connectWorker(first.url, 'mem');
  await w1.trigger({ function_id: 'state::set', payload: { scope: 'tmp', key: 'k', value: 1 } });
  await w1.shutdown();
  await first.close();
  const second = await startTestEngine({ memory: true });
  const w2 = connectWorker(second.url, 'mem2');
  await expect(w2.trigger({ function_id: 'state::get', payload: { scope: 'tmp', key: 'k' } })).resolves.toBeUndefined();
  await w2.shutdown();
  await second.close();
});
