import { codeOf, collectStream, stateSnapshot } from '@iii-harness/testing';
import { contracts, type SessionEntryBody, type SessionEvent, type UpdateOp } from '@iii-harness/types';
import { assistant, type Stack, startStack, texts, user } from './stack.js';

/**
 * The paths that save engine calls (see engine-ops.test.ts) keep the guarantees: the inbox counts
 * in the session record, the fallbacks that read the session record or an entry only when needed,
 * the one commit per chain of a batch, the list read of a short path.
 */
let s: Stack;
beforeAll(async () => {
  s = await startStack({ pending_timeout_ms: 300 });
});
afterAll(async () => {
  await s.close();
});

const create = async (session_id?: string) =>
  (await s.bus.call(contracts.session.create, session_id ? { session_id } : {})).session.session_id;
const state = {
  // Raw stored records, whatever their shape: these tests write and read them behind the worker's back.
  get: async (scope: string, key: string): Promise<any> => s.bus.call(contracts.engine.stateGet, { scope, key }),
  set: (scope: string, key: string, value: unknown) => s.bus.call(contracts.engine.stateSet, { scope, key, value }),
  update: (scope: string, key: string, ops: UpdateOp[]) =>
    s.bus.call(contracts.engine.stateUpdate, { scope, key, ops }),
};
const peek = async (session_id: string, name = 'steering') =>
  (await s.bus.call(contracts.session.inboxPeek, { session_id, name })).items.map((i) => i.item);
const push = (session_id: string, item: unknown, name = 'steering') =>
  s.bus.call(contracts.session.inboxPush, { session_id, name, item });

describe('inbox counts in the session record', () => {
  it('reads the inbox of a session record written before the counts existed', async () => {
    const session_id = await create();
    await push(session_id, 'waiting');
    // An older record: no marker, no counts (the item was pushed by an older version).
    await state.update('session_meta', session_id, [
      { type: 'remove', path: 'inboxes_counted' },
      { type: 'remove', path: 'inbox_pushed:steering' },
    ]);
    expect(await peek(session_id)).toEqual(['waiting']);
    const { items } = await s.bus.call(contracts.session.inboxDrain, { session_id, name: 'steering' });
    expect(items.map((i) => i.item)).toEqual(['waiting']);
  });

  it('keeps counting right when a deleted session with the same id left items behind', async () => {
    const session_id = await create();
    await push(session_id, 'old');
    const leftover = await state.get(`session_inbox:${session_id}`, 'steering');
    await s.bus.call(contracts.session.delete, { session_id });
    await create(session_id);
    // What a push racing the delete leaves: the old incarnation's item in the new session's inbox.
    await state.set(`session_inbox:${session_id}`, 'steering', leftover);
    expect(await peek(session_id)).toEqual([]);
    await push(session_id, 'new');
    const seen = (await s.bus.call(contracts.session.inboxPeek, { session_id, name: 'steering' })).items;
    expect(seen.map((i) => i.item)).toEqual(['old', 'new']);
    expect(
      (
        await s.bus.call(contracts.session.inboxAck, {
          session_id,
          name: 'steering',
          ids: seen.map((i) => i.id),
        })
      ).removed,
    ).toHaveLength(2);
    // Taking the old item must not count against the next one.
    await push(session_id, 'newer');
    expect(await peek(session_id)).toEqual(['newer']);
    expect(
      (await s.bus.call(contracts.session.inboxDrain, { session_id, name: 'steering' })).items.map((i) => i.item),
    ).toEqual(['newer']);
    expect(await peek(session_id)).toEqual([]);
  });

  it('keeps the count of each inbox apart', async () => {
    const session_id = await create();
    await push(session_id, 's1', 'steering');
    await push(session_id, 'f1', 'followup');
    await s.bus.call(contracts.session.inboxDrain, { session_id, name: 'steering' });
    expect(await peek(session_id, 'steering')).toEqual([]);
    expect(await peek(session_id, 'followup')).toEqual(['f1']);
  });

  it('answers not_found for a push to a missing session and leaves nothing behind', async () => {
    const before = await stateSnapshot(s.bus);
    expect(await codeOf(push('never-created', 'x'))).toBe('not_found');
    expect(await stateSnapshot(s.bus)).toEqual(before);
  });
});

describe('update_entry reads the session record only when it writes nothing', () => {
  it('answers not_found for a missing session or entry and changes nothing', async () => {
    const session_id = await create();
    const before = await stateSnapshot(s.bus);
    expect(
      await codeOf(
        s.bus.call(contracts.session.updateEntry, {
          session_id: 'never-created',
          entry_id: 'e',
          revision: 1,
          entry: user('x'),
        }),
      ),
    ).toBe('not_found');
    expect(
      await codeOf(
        s.bus.call(contracts.session.updateEntry, { session_id, entry_id: 'missing', revision: 1, entry: user('x') }),
      ),
    ).toBe('not_found');
    expect(await stateSnapshot(s.bus)).toEqual(before);
  });

  it('answers not_found for an entry a deleted session left behind, written to or not', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'kept', entry: assistant('v0') });
    const record = await state.get(`session_entries:${session_id}`, 'kept');
    await s.bus.call(contracts.session.delete, { session_id });
    await state.set(`session_entries:${session_id}`, 'kept', { ...record, revision: 5 });
    expect(
      await codeOf(
        s.bus.call(contracts.session.updateEntry, {
          session_id,
          entry_id: 'kept',
          revision: 3,
          entry: assistant('v3'),
        }),
      ),
    ).toBe('not_found');
    expect(
      await codeOf(
        s.bus.call(contracts.session.updateEntry, {
          session_id,
          entry_id: 'kept',
          revision: 6,
          entry: assistant('v6'),
        }),
      ),
    ).toBe('not_found');
    // The update that found no session took back what it created.
    expect(await state.get('session_meta', session_id)).toBeUndefined();
  });
});

describe('append reads an entry id before writing only for a reference check', () => {
  it('returns a retried compaction as it is, though its check would fail now', async () => {
    const session_id = await create();
    for (const id of ['u1', 'a1', 'u2'])
      await s.bus.call(contracts.session.append, { session_id, entry_id: id, entry: user(id) });
    const compaction: SessionEntryBody = {
      type: 'compaction',
      summary: 'S',
      tokens_before: 9,
      first_kept_entry_id: 'a1',
    };
    const first = await s.bus.call(contracts.session.append, { session_id, entry_id: 'cx', entry: compaction });
    // Elsewhere in the tree, a1 is not on the path any more: a new compaction could not keep it.
    await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'u1' });
    expect(await codeOf(s.bus.call(contracts.session.append, { session_id, entry_id: 'cx2', entry: compaction }))).toBe(
      'invalid_payload',
    );
    expect(await s.bus.call(contracts.session.append, { session_id, entry_id: 'cx', entry: compaction })).toEqual({
      ...withoutCount(first),
      created: false,
    });
  });

  it('returns a retried message found only when claiming its id', async () => {
    const session_id = await create();
    const first = await s.bus.call(contracts.session.append, { session_id, entry_id: 'm', entry: user('m') });
    const batch = await s.bus.call(contracts.session.appendBatch, {
      session_id,
      entries: [
        { entry_id: 'm', entry: user('m again') },
        { entry_id: 'n', entry: user('n') },
      ],
    });
    expect(batch.entries.map((e) => [e.entry_id, e.created, e.entry.parent_id])).toEqual([
      ['m', false, null],
      ['n', true, 'm'],
    ]);
    expect(batch.entries[0]).toEqual({ ...withoutCount(first), created: false });
  });
});

describe('append_batch commits each chain of new entries at once', () => {
  it('gives a batch consecutive sequence numbers and one event per entry', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'q', entry: user('q') });
    const events = collectStream<SessionEvent>(s.client.client, 'session::events', session_id);
    await s.bus.call(contracts.engine.functionsList, {}); // the trigger is registered
    try {
      const { entries } = await s.bus.call(contracts.session.appendBatch, {
        session_id,
        entries: ['r1', 'r2', 'r3'].map((entry_id) => ({ entry_id, entry: assistant(entry_id) })),
      });
      const first = entries[0]!.entry.seq;
      expect(entries.map((e) => [e.entry.parent_id, e.entry.depth, e.entry.seq])).toEqual([
        ['q', 1, first],
        ['r1', 2, first + 1],
        ['r2', 3, first + 2],
      ]);
      await events.waitFor(3);
      expect(events.data().every((e) => e.type === 'entry_appended')).toBe(true);
      expect(
        events
          .data()
          .map((e) => e.seq)
          .sort((a, b) => a - b),
      ).toEqual([first, first + 1, first + 2]);
    } finally {
      events.stop();
    }
    expect((await s.bus.call(contracts.session.get, { session_id })).session).toMatchObject({
      leaf_id: 'r3',
      entry_count: 4,
    });
  });

  it('keeps a batch contiguous when appends without parent race it', async () => {
    const session_id = await create();
    const batch = ['b1', 'b2', 'b3', 'b4'].map((entry_id) => ({ entry_id, entry: user(entry_id) }));
    await Promise.all([
      s.bus.call(contracts.session.appendBatch, { session_id, entries: batch }),
      ...['s1', 's2', 's3', 's4'].map((entry_id) =>
        s.bus.call(contracts.session.append, { session_id, entry_id, entry: user(entry_id) }),
      ),
    ]);
    const { active_path } = await s.bus.call(contracts.session.tree, { session_id });
    expect(active_path).toHaveLength(8);
    const start = active_path.indexOf('b1');
    expect(active_path.slice(start, start + 4)).toEqual(['b1', 'b2', 'b3', 'b4']);
  });

  it('goes on under an entry that exists, and starts a compaction where it was checked', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'u1', entry: user('u1') });
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'have', entry: user('have') });
    const { entries } = await s.bus.call(contracts.session.appendBatch, {
      session_id,
      parent_id: 'u1',
      entries: [
        { entry_id: 'have', entry: user('ignored') },
        { entry_id: 'm1', entry: assistant('m1') },
        { entry_id: 'cx', entry: { type: 'compaction', summary: 'S', tokens_before: 9, first_kept_entry_id: 'm1' } },
        { entry_id: 'm2', entry: user('m2') },
      ],
    });
    expect(entries.map((e) => [e.entry_id, e.created, e.entry.parent_id])).toEqual([
      ['have', false, 'u1'],
      ['m1', true, 'have'],
      ['cx', true, 'm1'],
      ['m2', true, 'cx'],
    ]);
    expect(texts(await s.bus.call(contracts.session.messages, { session_id }))).toEqual([
      expect.stringContaining('S'),
      'm1',
      'm2',
    ]);
  });
});

describe('messages', () => {
  it('answers not_found when the active leaf is missing, read with a list or with gets', async () => {
    const gets = await startStack({ path_list_factor: 0 });
    try {
      for (const stack of [s, gets]) {
        const { session } = await stack.bus.call(contracts.session.create, {});
        for (const id of ['a', 'b', 'c'])
          await stack.bus.call(contracts.session.append, {
            session_id: session.session_id,
            entry_id: id,
            entry: user(id),
          });
        await stack.bus.call(contracts.engine.stateDelete, {
          scope: `session_entries:${session.session_id}`,
          key: 'c',
        });
        expect(await codeOf(stack.bus.call(contracts.session.messages, { session_id: session.session_id }))).toBe(
          'not_found',
        );
      }
    } finally {
      await gets.close();
    }
  });
});

describe('ensure', () => {
  let patient: Stack;
  beforeAll(async () => {
    // Waiting out this timeout would fail the test: the claim must be retaken as soon as it is free.
    patient = await startStack({ pending_timeout_ms: 600_000 });
  });
  afterAll(async () => {
    await patient.close();
  });

  it('creates the session at once when what held its id vanishes', async () => {
    // What an update of an absent session leaves for a moment (it takes it back at once).
    await patient.bus.call(contracts.engine.stateSet, {
      scope: 'session_meta',
      key: 'vanishing',
      value: { seq: 1, updated_at: 1 },
    });
    const ensuring = patient.bus.call(contracts.session.ensure, { session_id: 'vanishing' });
    for (;;) {
      const held = await patient.bus.call(contracts.engine.stateGet, {
        scope: 'session_meta',
        key: 'vanishing',
      });
      if ((held as { claimed?: boolean } | undefined)?.claimed) break; // ensure lost the claim to the fragment and is waiting
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await patient.bus.call(contracts.engine.stateDelete, { scope: 'session_meta', key: 'vanishing' });
    expect(await ensuring).toMatchObject({ created: true });
  });
});

/** A duplicate's reply: the first one's without its inbox count (a duplicate changes nothing, so it reports none). */
function withoutCount<T extends object>(reply: T): Omit<T, 'inbox_waiting'> {
  const { inbox_waiting: _, ...rest } = reply as T & { inbox_waiting?: number };
  return rest;
}
