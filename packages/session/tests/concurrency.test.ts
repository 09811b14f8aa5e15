import { codeOf } from '@iii-harness/testing';
import { contracts, type UpdateOp } from '@iii-harness/types';
import { assistant, type Stack, startStack, texts, user } from './stack.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ pending_timeout_ms: 300 });
});
afterAll(async () => {
  await s.close();
});

const create = async () => (await s.bus.call(contracts.session.create, {})).session.session_id;
const getInfo = async (session_id: string) => (await s.bus.call(contracts.session.get, { session_id })).session;
const treeOf = (session_id: string) => s.bus.call(contracts.session.tree, { session_id });

describe('session under concurrency', () => {
  it('appends an entry id once under concurrent duplicate calls', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry: user('before') });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.bus.call(contracts.session.append, { session_id, entry_id: 'turn-7:user', entry: user(`attempt ${i}`) }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)!;
    for (const r of results) expect(r.entry).toEqual(winner.entry);
    expect((await getInfo(session_id)).entry_count).toBe(2);
    expect((await treeOf(session_id)).nodes.filter((n) => n.entry.id === 'turn-7:user')).toHaveLength(1);
    expect(texts(await s.bus.call(contracts.session.messages, { session_id }))).toEqual([
      'before',
      winner.entry.type === 'message' ? (winner.entry.message.content as string) : '',
    ]);
  });

  it('appends a batch once under concurrent duplicate batches', async () => {
    const session_id = await create();
    const entries = ['b1', 'b2', 'b3'].map((entry_id) => ({ entry_id, entry: assistant(entry_id) }));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => s.bus.call(contracts.session.appendBatch, { session_id, entries })),
    );
    for (const [i] of entries.entries()) expect(results.filter((r) => r.entries[i]!.created)).toHaveLength(1);
    expect((await getInfo(session_id)).entry_count).toBe(3);
    expect(texts(await s.bus.call(contracts.session.messages, { session_id }))).toEqual(['b1', 'b2', 'b3']);
  });

  it('chains concurrent appends without parent_id into one path (no entry lost from it)', async () => {
    const session_id = await create();
    const n = 30;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        s.bus.call(contracts.session.append, { session_id, entry_id: `c${i}`, entry: user(`c${i}`) }),
      ),
    );
    const t = await treeOf(session_id);
    expect(t.roots).toHaveLength(1);
    expect(t.active_path).toHaveLength(n);
    expect(t.nodes.every((node) => node.children.length <= 1)).toBe(true);
    const depths = t.active_path.map((id) => t.nodes.find((node) => node.entry.id === id)!.entry.depth);
    expect(depths).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(new Set(texts(await s.bus.call(contracts.session.messages, { session_id }))).size).toBe(n);
    expect((await getInfo(session_id)).entry_count).toBe(n);
  });

  it('creates a session once under concurrent ensure calls', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        s.bus.call(contracts.session.ensure, {
          session_id: 'raced',
          display_name: `caller ${i}`,
        }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)!.session;
    for (const r of results) expect(r.session).toEqual(winner);
  });

  it('loses nothing and duplicates nothing when pushes race drains', async () => {
    const session_id = await create();
    const total = 150;
    const drained: unknown[] = [];
    let pushing = true;
    const drainer = (async () => {
      while (pushing) {
        const { items } = await s.bus.call(contracts.session.inboxDrain, {
          session_id,
          name: 'steering',
        });
        drained.push(...items.map((i) => i.item));
      }
    })();
    const pushes = Array.from({ length: total }, (_, i) =>
      s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item: `m${i}` }),
    );
    await Promise.all(pushes);
    pushing = false;
    await drainer;
    const { items } = await s.bus.call(contracts.session.inboxDrain, {
      session_id,
      name: 'steering',
    });
    drained.push(...items.map((i) => i.item));
    expect(drained).toHaveLength(total);
    expect(new Set(drained)).toEqual(new Set(Array.from({ length: total }, (_, i) => `m${i}`)));
  });

  it('loses nothing and duplicates nothing when pushes race peek-then-ack consumers', async () => {
    const session_id = await create();
    const total = 120;
    const handled: unknown[] = [];
    let pushing = true;
    const consumer = async () => {
      for (;;) {
        const stop = !pushing;
        const { items } = await s.bus.call(contracts.session.inboxPeek, {
          session_id,
          name: 'followup',
        });
        if (items.length) {
          const { removed } = await s.bus.call(contracts.session.inboxAck, {
            session_id,
            name: 'followup',
            ids: items.map((i) => i.id),
          });
          // Only what this consumer removed counts as handled by it: two consumers may peek the same item.
          handled.push(...items.filter((i) => removed.includes(i.id)).map((i) => i.item));
        } else if (stop) return;
      }
    };
    const consumers = [consumer(), consumer()];
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        s.bus.call(contracts.session.inboxPush, { session_id, name: 'followup', item: `f${i}` }),
      ),
    );
    pushing = false;
    await Promise.all(consumers);
    expect(handled).toHaveLength(total);
    expect(new Set(handled).size).toBe(total);
  });

  it('keeps the highest revision when revisions arrive concurrently and out of order', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'stream', entry: assistant('') });
    const order = Array.from({ length: 30 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    await Promise.all(
      order.map((revision) =>
        s.bus.call(contracts.session.updateEntry, {
          session_id,
          entry_id: 'stream',
          revision,
          entry: assistant(`rev ${revision}`),
        }),
      ),
    );
    const node = (await treeOf(session_id)).nodes[0]!;
    expect(node.entry).toMatchObject({ revision: 30, message: { content: [{ text: 'rev 30' }] } });
  });

  it('takes over an append whose first writer died after claiming the id', async () => {
    const session_id = await create();
    // What a writer leaves when it dies right after winning the claim.
    await s.bus.call(contracts.engine.stateUpdate, {
      scope: `session_entries:${session_id}`,
      key: 'orphan',
      ops: [{ type: 'merge', value: { claimed: true, id: 'orphan' } }],
    });
    const started = Date.now();
    const result = await s.bus.call(contracts.session.append, {
      session_id,
      entry_id: 'orphan',
      entry: user('recovered'),
    });
    expect(result).toMatchObject({ created: true, entry: { id: 'orphan', seq: expect.any(Number) } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(texts(await s.bus.call(contracts.session.messages, { session_id }))).toEqual(['recovered']);
    expect((await getInfo(session_id)).entry_count).toBe(1);
  });
});

describe('appends placed from what this process last saw of the session', () => {
  const state = (scope: string, key: string, ops: UpdateOp[]) =>
    s.bus.call(contracts.engine.stateUpdate, { scope, key, ops });
  /** What another copy of the worker does when it appends `id` under `parent` (depth `depth`). */
  const appendElsewhere = async (session_id: string, id: string, parent: string, depth: number) => {
    const { new_value } = await state('session_meta', session_id, [
      { type: 'set', path: 'leaf_id', value: id },
      { type: 'increment', path: 'leaf_depth', by: 1 },
      { type: 'increment', path: 'entry_count', by: 1 },
      { type: 'increment', path: 'seq', by: 1 },
    ]);
    const seq = (new_value as { seq: number }).seq;
    await s.bus.call(contracts.engine.stateSet, {
      scope: `session_entries:${session_id}`,
      key: id,
      value: {
        id,
        parent_id: parent,
        depth,
        window_depth: 0,
        seq,
        committed: true,
        created_at: 1,
        updated_at: 1,
        body: user(id),
      },
    });
  };

  it('chains onto the real leaf when another copy appended since this one last looked', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'a', entry: user('a') });
    await appendElsewhere(session_id, 'b', 'a', 1);
    const c = await s.bus.call(contracts.session.append, { session_id, entry_id: 'c', entry: user('c') });
    expect(c.entry).toMatchObject({ parent_id: 'b', depth: 2 });
    expect(texts(await s.bus.call(contracts.session.messages, { session_id }))).toEqual(['a', 'b', 'c']);
  });

  it('keeps an entry on the path when its writer died between the commit and the stamp', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'a', entry: user('a') });
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'b', entry: user('b') });
    // What a writer leaves when it dies right after moving the leaf: its draft, not stamped.
    await state(`session_entries:${session_id}`, 'c', [
      { type: 'merge', value: { claimed: true, id: 'c' } },
      {
        type: 'append',
        path: 'drafts',
        value: { parent_id: 'b', depth: 2, window_depth: 0, created_at: 1, body: user('c') },
      },
    ]);
    await state('session_meta', session_id, [
      { type: 'set', path: 'leaf_id', value: 'c' },
      { type: 'increment', path: 'leaf_depth', by: 1 },
      { type: 'increment', path: 'entry_count', by: 1 },
      { type: 'increment', path: 'seq', by: 1 },
    ]);
    expect(texts(await s.bus.call(contracts.session.messages, { session_id }))).toEqual(['a', 'b', 'c']);
    // Not committed as far as readers of single entries go; a retry of the append takes it over.
    expect(await codeOf(s.bus.call(contracts.session.getEntry, { session_id, entry_id: 'c' }))).toBe('not_found');
    const retried = await s.bus.call(contracts.session.append, { session_id, entry_id: 'c', entry: user('c') });
    expect(retried.entry).toMatchObject({ id: 'c', parent_id: 'b', seq: expect.any(Number) });
    expect((await s.bus.call(contracts.session.getEntry, { session_id, entry_id: 'c' })).entry).toMatchObject({
      parent_id: 'b',
      depth: 2,
    });
    expect(texts(await s.bus.call(contracts.session.messages, { session_id }))).toEqual(['a', 'b', 'c']);
  });

  it('takes back its draft when the session it was placed in is gone', async () => {
    const session_id = await create();
    await s.bus.call(contracts.session.append, { session_id, entry_id: 'a', entry: user('a') });
    // Deleted by another copy: this process still knows a leaf for it.
    await s.bus.call(contracts.engine.stateDelete, { scope: 'session_meta', key: session_id });
    expect(await codeOf(s.bus.call(contracts.session.append, { session_id, entry_id: 'z', entry: user('z') }))).toBe(
      'not_found',
    );
    expect(
      await s.bus.call(contracts.engine.stateGet, { scope: `session_entries:${session_id}`, key: 'z' }),
    ).toBeUndefined();
    expect(await s.bus.call(contracts.engine.stateGet, { scope: 'session_meta', key: session_id })).toBeUndefined();
  });
});

describe('reading paths with one state::list', () => {
  let listing: Stack;
  let gets: Stack;
  beforeAll(async () => {
    listing = await startStack({ path_list_min: 1, path_list_factor: 1000 });
    gets = await startStack({ path_list_factor: 0 });
  });
  afterAll(async () => {
    await listing.close();
    await gets.close();
  });

  it('gives the same messages as the walk with gets', async () => {
    const build = async (stack: Stack) => {
      const { session } = await stack.bus.call(contracts.session.create, {});
      const id = session.session_id;
      for (const e of ['u1', 'a1', 'u2', 'a2'])
        await stack.bus.call(contracts.session.append, {
          session_id: id,
          entry_id: e,
          entry: e.startsWith('u') ? user(e) : assistant(e),
        });
      await stack.bus.call(contracts.session.setLeaf, { session_id: id, entry_id: 'a1' });
      for (const e of ['u3', 'a3'])
        await stack.bus.call(contracts.session.append, { session_id: id, entry_id: e, entry: user(e) });
      await stack.bus.call(contracts.session.append, {
        session_id: id,
        entry_id: 'cx',
        entry: { type: 'compaction', summary: 'S', tokens_before: 10, first_kept_entry_id: 'u3' },
      });
      await stack.bus.call(contracts.session.append, { session_id: id, entry_id: 'u4', entry: user('u4') });
      return Promise.all([
        stack.bus.call(contracts.session.messages, { session_id: id }),
        stack.bus.call(contracts.session.messages, { session_id: id, leaf_id: 'a2' }),
      ]);
    };
    const strip = (r: { session_id: string; messages: unknown[] }[]) =>
      r.map(({ messages, ...rest }) => ({
        ...rest,
        session_id: '',
        messages: JSON.parse(JSON.stringify(messages).replace(/"timestamp":\d+/g, '"timestamp":0')),
      }));
    const [viaList, viaGets] = await Promise.all([build(listing), build(gets)]);
    expect(strip(viaList)).toEqual(strip(viaGets));
    expect(texts(viaList[0])).toEqual([expect.stringContaining('S'), 'u3', 'a3', 'u4']);
  });
});
