import { contracts } from '@iii-harness/types';
import { type Stack, startStack, user } from './stack.js';

/**
 * Stored records are versioned: a record written before records carried `v` (version 1, today's
 * shape) is read through the worker as it is and written back stamped; one from a newer worker is
 * refused with a clear error and left as it was.
 */
let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await s.close();
});

const put = (scope: string, key: string, value: unknown) =>
  s.bus.call(contracts.engine.stateSet, { scope, key, value });
const stored = (scope: string, key: string) => s.bus.call(contracts.engine.stateGet, { scope, key });

/** A session record and its one entry as a worker wrote them before records were versioned. */
function writeUnversioned(sessionId: string) {
  const record = {
    session_id: sessionId,
    created_at: 1000,
    updated_at: 2000,
    display_name: 'from before versions',
    leaf_id: 'e1',
    entry_count: 1,
    seq: 1,
    leaf_depth: 0,
    leaf_window: 0,
    claimed: true,
  };
  const entry = {
    id: 'e1',
    claimed: true,
    parent_id: null,
    depth: 0,
    window_depth: 0,
    seq: 1,
    committed: true,
    created_at: 1500,
    updated_at: 1500,
    body: user('hello from before'),
  };
  return Promise.all([put('session_meta', sessionId, record), put(`session_entries:${sessionId}`, 'e1', entry)]);
}

describe('stored records are versioned', () => {
  it('reads a session record and entry written before versions, and stamps what it writes', async () => {
    await writeUnversioned('old1');
    expect((await s.bus.call(contracts.session.get, { session_id: 'old1' })).session).toEqual({
      session_id: 'old1',
      created_at: 1000,
      updated_at: 2000,
      display_name: 'from before versions',
      leaf_id: 'e1',
      entry_count: 1,
      seq: 1,
    });
    expect((await s.bus.call(contracts.session.getEntry, { session_id: 'old1', entry_id: 'e1' })).entry).toEqual({
      type: 'message',
      message: { role: 'user', content: 'hello from before' },
      id: 'e1',
      parent_id: null,
      seq: 1,
      depth: 0,
      revision: 0,
      created_at: 1500,
      updated_at: 1500,
    });
    const { messages } = await s.bus.call(contracts.session.messages, { session_id: 'old1' });
    expect(messages.map((m) => m.message)).toEqual([{ role: 'user', content: 'hello from before' }]);

    // Appending onto the old record works; the new entry is stamped with the current version.
    const { entry } = await s.bus.call(contracts.session.append, { session_id: 'old1', entry: user('and now') });
    expect(entry).toMatchObject({ parent_id: 'e1', depth: 1, seq: 2 });
    expect(await stored('session_entries:old1', entry.id)).toMatchObject({ v: 1, committed: true, seq: 2 });
    // A new session record is stamped too.
    const { session } = await s.bus.call(contracts.session.create, {});
    expect(await stored('session_meta', session.session_id)).toMatchObject({ v: 1, entry_count: 0 });
    // ... and so are the entries a clone copies (from the unversioned source).
    const clone = await s.bus.call(contracts.session.clone, { session_id: 'old1' });
    expect(await stored(`session_entries:${clone.session.session_id}`, 'e1')).toMatchObject({ v: 1, id: 'e1' });
    expect(await stored('session_meta', clone.session.session_id)).toMatchObject({ v: 1, entry_count: 2 });
  });

  it('lists sessions whose records were written before versions', async () => {
    await writeUnversioned('old2');
    const { sessions } = await s.bus.call(contracts.session.list, { limit: 100 });
    expect(sessions.find((info) => info.session_id === 'old2')).toMatchObject({
      display_name: 'from before versions',
      entry_count: 1,
    });
  });

  it('refuses a session record or entry of a newer version with a clear error, and leaves it as it was', async () => {
    await writeUnversioned('future');
    const futureMeta = { v: 99, session_id: 'future', created_at: 1, shape: 'from the future' };
    const futureEntry = { v: 99, id: 'e1', body: { shape: 'from the future' } };
    await put('session_meta', 'future', futureMeta);
    await expect(s.bus.call(contracts.session.get, { session_id: 'future' })).rejects.toMatchObject({
      code: 'unavailable',
      reason: 'unsupported_record_version',
      message:
        'session record at session_meta/future has version 99; this worker reads versions up to 1 (upgrade the worker)',
    });
    expect(await stored('session_meta', 'future')).toEqual(futureMeta);

    await writeUnversioned('future2');
    await put('session_entries:future2', 'e1', futureEntry);
    await expect(
      s.bus.call(contracts.session.getEntry, { session_id: 'future2', entry_id: 'e1' }),
    ).rejects.toMatchObject({
      code: 'unavailable',
      reason: 'unsupported_record_version',
      message:
        'session entry at session_entries:future2/e1 has version 99; this worker reads versions up to 1 (upgrade the worker)',
    });
    await expect(s.bus.call(contracts.session.messages, { session_id: 'future2' })).rejects.toMatchObject({
      code: 'unavailable',
      reason: 'unsupported_record_version',
    });
    expect(await stored('session_entries:future2', 'e1')).toEqual(futureEntry);
  });
});
