import { collectStream } from '@iii-harness/testing';
import type { SessionEntry, SessionEvent, SessionInfo } from '@iii-harness/types';
import { assistant, codeOf, type Stack, startStack, stateSnapshot, texts, user } from './stack.js';

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

type Appended = { entry_id: string; created: boolean; entry: SessionEntry };
type Items = { items: Array<{ id: string; item: unknown }> };
const create = async (session_id?: string) =>
  (await s.call<{ session: SessionInfo }>('session::create', session_id ? { session_id } : {})).session.session_id;
const state = {
  get: <T = any>(scope: string, key: string) => s.call<T>('state::get', { scope, key }),
  set: (scope: string, key: string, value: unknown) => s.call('state::set', { scope, key, value }),
  update: (scope: string, key: string, ops: unknown[]) => s.call('state::update', { scope, key, ops }),
};
const peek = async (session_id: string, name = 'steering') =>
  (await s.call<Items>('session::inbox::peek', { session_id, name })).items.map((i) => i.item);
const push = (session_id: string, item: unknown, name = 'steering') =>
  s.call('session::inbox::push', { session_id, name, item });

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
    const { items } = await s.call<Items>('session::inbox::drain', { session_id, name: 'steering' });
    expect(items.map((i) => i.item)).toEqual(['waiting']);
  });

  it('keeps counting right when a deleted session with the same id left items behind', async () => {
    const session_id = await create();
    await push(session_id, 'old');
    const leftover = await state.get(`session_inbox:${session_id}`, 'steering');
    await s.call('session::delete', { session_id });
    await create(session_id);
    // What a push racing the delete leaves: the old incarnation's item in the new session's inbox.
    await state.set(`session_inbox:${session_id}`, 'steering', leftover);
    expect(await peek(session_id)).toEqual([]);
    await push(session_id, 'new');
    const seen = (await s.call<Items>('session::inbox::peek', { session_id, name: 'steering' })).items;
    expect(seen.map((i) => i.item)).toEqual(['old', 'new']);
    expect(
      (
        await s.call<{ removed: string[] }>('session::inbox::ack', {
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
      (await s.call<Items>('session::inbox::drain', { session_id, name: 'steering' })).items.map((i) => i.item),
    ).toEqual(['newer']);
    expect(await peek(session_id)).toEqual([]);
  });

  it('keeps the count of each inbox apart', async () => {
    const session_id = await create();
    await push(session_id, 's1', 'steering');
    await push(session_id, 'f1', 'followup');
    await s.call('session::inbox::drain', { session_id, name: 'steering' });
    expect(await peek(session_id, 'steering')).toEqual([]);
    expect(await peek(session_id, 'followup')).toEqual(['f1']);
  });

  it('answers not_found for a push to a missing session and leaves nothing behind', async () => {
    const before = await stateSnapshot(s);
    expect(await codeOf(push('never-created', 'x'))).toBe('not_found');
    expect(await stateSnapshot(s)).toEqual(before);
  });
});

describe('update_entry reads the session record only when it writes nothing', () => {
  it('answers not_found for a missing session or entry and changes nothing', async () => {
    const session_id = await create();
    const before = await stateSnapshot(s);
    expect(
      await codeOf(
        s.call('session::update_entry', { session_id: 'never-created', entry_id: 'e', revision: 1, entry: user('x') }),
      ),
    ).toBe('not_found');
    expect(
      await codeOf(s.call('session::update_entry', { session_id, entry_id: 'missing', revision: 1, entry: user('x') })),
    ).toBe('not_found');
    expect(await stateSnapshot(s)).toEqual(before);
  });

  it('answers not_found for an entry a deleted session left behind, written to or not', async () => {
    const session_id = await create();
    await s.call('session::append', { session_id, entry_id: 'kept', entry: assistant('v0') });
    const record = await state.get(`session_entries:${session_id}`, 'kept');
    await s.call('session::delete', { session_id });
    await state.set(`session_entries:${session_id}`, 'kept', { ...record, revision: 5 });
    expect(
      await codeOf(
        s.call('session::update_entry', { session_id, entry_id: 'kept', revision: 3, entry: assistant('v3') }),
      ),
    ).toBe('not_found');
    expect(
      await codeOf(
        s.call('session::update_entry', { session_id, entry_id: 'kept', revision: 6, entry: assistant('v6') }),
      ),
    ).toBe('not_found');
    // The update that found no session took back what it created.
    expect(await state.get('session_meta', session_id)).toBeUndefined();
  });
});

describe('append reads an entry id before writing only for a reference check', () => {
  it('returns a retried compaction as it is, though its check would fail now', async () => {
    const session_id = await create();
    for (const id of ['u1', 'a1', 'u2']) await s.call('session::append', { session_id, entry_id: id, entry: user(id) });
    const compaction = { type: 'compaction', summary: 'S', tokens_before: 9, first_kept_entry_id: 'a1' };
    const first = await s.call<Appended>('session::append', { session_id, entry_id: 'cx', entry: compaction });
    // Elsewhere in the tree, a1 is not on the path any more: a new compaction could not keep it.
    await s.call('session::set_leaf', { session_id, entry_id: 'u1' });
    expect(await codeOf(s.call('session::append', { session_id, entry_id: 'cx2', entry: compaction }))).toBe(
      'invalid_payload',
    );
    expect(await s.call<Appended>('session::append', { session_id, entry_id: 'cx', entry: compaction })).toEqual({
      ...withoutCount(first),
      created: false,
    });
  });

  it('returns a retried message found only when claiming its id', async () => {
    const session_id = await create();
    const first = await s.call<Appended>('session::append', { session_id, entry_id: 'm', entry: user('m') });
    const batch = await s.call<{ entries: Appended[] }>('session::append_batch', {
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
    await s.call('session::append', { session_id, entry_id: 'q', entry: user('q') });
    const events = collectStream<SessionEvent>(s.client.client, 'session::events', session_id);
    await s.call('engine::functions::list', {}); // the trigger is registered
    try {
      const { entries } = await s.call<{ entries: Appended[] }>('session::append_batch', {
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
    expect((await s.call<{ session: SessionInfo }>('session::get', { session_id })).session).toMatchObject({
      leaf_id: 'r3',
      entry_count: 4,
    });
  });

  it('keeps a batch contiguous when appends without parent race it', async () => {
    const session_id = await create();
    const batch = ['b1', 'b2', 'b3', 'b4'].map((entry_id) => ({ entry_id, entry: user(entry_id) }));
    await Promise.all([
      s.call('session::append_batch', { session_id, entries: batch }),
      ...['s1', 's2', 's3', 's4'].map((entry_id) =>
        s.call('session::append', { session_id, entry_id, entry: user(entry_id) }),
      ),
    ]);
    const { active_path } = await s.call<{ active_path: string[] }>('session::tree', { session_id });
    expect(active_path).toHaveLength(8);
    const start = active_path.indexOf('b1');
    expect(active_path.slice(start, start + 4)).toEqual(['b1', 'b2', 'b3', 'b4']);
  });

  it('goes on under an entry that exists, and starts a compaction where it was checked', async () => {
    const session_id = await create();
    await s.call('session::append', { session_id, entry_id: 'u1', entry: user('u1') });
    await s.call('session::append', { session_id, entry_id: 'have', entry: user('have') });
    const { entries } = await s.call<{ entries: Appended[] }>('session::append_batch', {
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
    expect(texts(await s.call('session::messages', { session_id }))).toEqual([
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
        const { session } = await stack.call<{ session: SessionInfo }>('session::create', {});
        for (const id of ['a', 'b', 'c'])
          await stack.call('session::append', { session_id: session.session_id, entry_id: id, entry: user(id) });
        await stack.call('state::delete', { scope: `session_entries:${session.session_id}`, key: 'c' });
        expect(await codeOf(stack.call('session::messages', { session_id: session.session_id }))).toBe('not_found');
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
    await patient.call('state::set', { scope: 'session_meta', key: 'vanishing', value: { seq: 1, updated_at: 1 } });
    const ensuring = patient.call<{ created: boolean }>('session::ensure', { session_id: 'vanishing' });
    for (;;) {
      const held = await patient.call<Record<string, unknown> | undefined>('state::get', {
        scope: 'session_meta',
        key: 'vanishing',
      });
      if (held?.claimed) break; // ensure lost the claim to the fragment and is waiting
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await patient.call('state::delete', { scope: 'session_meta', key: 'vanishing' });
    expect(await ensuring).toMatchObject({ created: true });
  });
});

/** A duplicate's reply: the first one's without its inbox count (a duplicate changes nothing, so it reports none). */
function withoutCount<T extends object>(reply: T): Omit<T, 'inbox_waiting'> {
  const { inbox_waiting: _, ...rest } = reply as T & { inbox_waiting?: number };
  return rest;
}
