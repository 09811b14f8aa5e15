import { codeOf, collectStream } from '@iii-harness/testing';
import {
  type ContractInput,
  contracts,
  type SessionEntry,
  type SessionEntryBody,
  type SessionEvent,
  type SessionInfo,
} from '@iii-harness/types';
import { BRANCH_SUMMARY_PREFIX, COMPACTION_PREFIX } from '../src/index.js';
import { assistant, custom, type Stack, startStack, texts, user } from './stack.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await s.close();
});

const create = async (payload: Partial<ContractInput<typeof contracts.session.create>> = {}) =>
  (await s.bus.call(contracts.session.create, payload)).session;
type AppendInput = ContractInput<typeof contracts.session.append>;
const add = (session_id: string, entry: SessionEntryBody, extra: Pick<AppendInput, 'entry_id' | 'parent_id'> = {}) =>
  s.bus.call(contracts.session.append, { session_id, entry, ...extra });
const msgs = (session_id: string, leaf_id?: string) =>
  s.bus.call(contracts.session.messages, { session_id, ...(leaf_id ? { leaf_id } : {}) });
const getInfo = async (session_id: string) => (await s.bus.call(contracts.session.get, { session_id })).session;

describe('session', () => {
  it('documents every function with a description and both schemas', async () => {
    for (const { id } of Object.values(contracts.session)) {
      const info = await s.bus.call(contracts.engine.functionsInfo, { function_id: id });
      expect(info.description).toEqual(expect.any(String));
      expect(info.description?.length).toBeGreaterThan(10);
      expect(info.request_schema).toMatchObject({ type: 'object' });
      expect(info.response_schema).toMatchObject({ type: 'object' });
    }
  });

  it('creates, ensures and gets sessions', async () => {
    const made = await create({ display_name: 'Refactor', cwd: '/repo', metadata: { team: 'core' } });
    expect(made).toMatchObject({
      display_name: 'Refactor',
      cwd: '/repo',
      metadata: { team: 'core' },
      leaf_id: null,
      entry_count: 0,
      seq: 1,
    });
    expect(await getInfo(made.session_id)).toEqual(made);
    expect(await codeOf(s.bus.call(contracts.session.create, { session_id: made.session_id }))).toBe('conflict');

    const first = await s.bus.call(contracts.session.ensure, { session_id: 'ensured-1', display_name: 'first' });
    expect(first).toMatchObject({ created: true, session: { session_id: 'ensured-1', display_name: 'first' } });
    const again = await s.bus.call(contracts.session.ensure, { session_id: 'ensured-1', display_name: 'ignored' });
    expect(again).toEqual({ created: false, session: first.session });
    expect(await codeOf(s.bus.call(contracts.session.get, { session_id: 'nope' }))).toBe('not_found');
  });

  it('appends onto the active leaf, is idempotent on entry_id, and reads messages', async () => {
    const { session_id } = await create();
    const a = await add(session_id, user('one'), { entry_id: 'turn-1:user' });
    expect(a).toMatchObject({
      entry_id: 'turn-1:user',
      created: true,
      entry: { parent_id: null, depth: 0, revision: 0, type: 'message' },
    });
    const b = await add(session_id, assistant('two'));
    expect(b.entry).toMatchObject({ parent_id: 'turn-1:user', depth: 1 });
    await add(session_id, custom('label', { note: 'not for the model' }));
    const again = await add(session_id, user('different text'), { entry_id: 'turn-1:user' });
    // A duplicate changes nothing, so it has no inbox count to report.
    const { inbox_waiting, ...appended } = a as typeof a & { inbox_waiting?: number };
    expect(inbox_waiting).toBe(0);
    expect(again).toEqual({ ...appended, created: false });

    const read = await msgs(session_id);
    expect(texts(read)).toEqual(['one', 'two']);
    expect(read.messages[0].entry_id).toBe('turn-1:user');
    expect((await getInfo(session_id)).entry_count).toBe(3);
    expect(await codeOf(add(session_id, user('x'), { parent_id: 'missing' }))).toBe('not_found');
    expect(await codeOf(add('no-such-session', user('x')))).toBe('not_found');
  });

  it('appends a batch as one chain, idempotently', async () => {
    const { session_id } = await create();
    await add(session_id, user('q'), { entry_id: 'q' });
    const entries = [
      { entry: assistant('a1'), entry_id: 'b1' },
      { entry: assistant('a2'), entry_id: 'b2' },
      { entry: user('u3') },
    ];
    const batch = await s.bus.call(contracts.session.appendBatch, { session_id, entries });
    expect(batch.entries.map((e) => [e.entry_id.slice(0, 2), e.entry.parent_id?.slice(0, 2), e.created])).toEqual([
      ['b1', 'q', true],
      ['b2', 'b1', true],
      [expect.any(String), 'b2', true],
    ]);
    const retried = await s.bus.call(contracts.session.appendBatch, {
      session_id,
      parent_id: 'q',
      entries: entries.slice(0, 2),
    });
    expect(retried.entries.map((e) => e.created)).toEqual([false, false]);
    expect(texts(await msgs(session_id))).toEqual(['q', 'a1', 'a2', 'u3']);
    expect((await getInfo(session_id)).entry_count).toBe(4);
  });

  it('rebuilds messages through the latest compaction as [summary, ...kept]', async () => {
    const { session_id } = await create();
    for (const [i, text] of ['u1', 'a1', 'u2', 'a2', 'u3'].entries())
      await add(session_id, i % 2 ? assistant(text) : user(text), { entry_id: text });
    await add(
      session_id,
      { type: 'compaction', summary: 'first summary', tokens_before: 500, first_kept_entry_id: 'u2' },
      { entry_id: 'c1' },
    );
    await add(session_id, assistant('a3'), { entry_id: 'a3' });
    let read = await msgs(session_id);
    expect(texts(read)).toEqual([`${COMPACTION_PREFIX}first summary`, 'u2', 'a2', 'u3', 'a3']);
    expect(read.compaction_entry_id).toBe('c1');
    expect(read.messages.map((m: { entry_id: string }) => m.entry_id)).toEqual(['c1', 'u2', 'a2', 'u3', 'a3']);

    // A later compaction supersedes the earlier one.
    await add(
      session_id,
      { type: 'compaction', summary: 'second summary', tokens_before: 900, first_kept_entry_id: 'a3' },
      { entry_id: 'c2' },
    );
    await add(session_id, user('u4'));
    read = await msgs(session_id);
    expect(texts(read)).toEqual([`${COMPACTION_PREFIX}second summary`, 'a3', 'u4']);
    // Reading an older leaf goes through the compaction on that path only.
    expect(texts(await msgs(session_id, 'a2'))).toEqual(['u1', 'a1', 'u2', 'a2']);
    // A compaction may keep nothing but itself.
    await add(
      session_id,
      { type: 'compaction', summary: 'all of it', tokens_before: 1000, first_kept_entry_id: 'c3' },
      { entry_id: 'c3' },
    );
    expect(texts(await msgs(session_id))).toEqual([`${COMPACTION_PREFIX}all of it`]);

    expect(
      await codeOf(
        add(session_id, { type: 'compaction', summary: 's', tokens_before: 1, first_kept_entry_id: 'nope' }),
      ),
    ).toBe('invalid_payload');
    const other = await create();
    await add(other.session_id, user('x'), { entry_id: 'x' });
    await add(other.session_id, user('y'), { entry_id: 'y', parent_id: null });
    // 'x' is in the session but not on the path being summarized.
    expect(
      await codeOf(
        add(other.session_id, { type: 'compaction', summary: 's', tokens_before: 1, first_kept_entry_id: 'x' }),
      ),
    ).toBe('invalid_payload');
  });

  it('shows the function results a compaction replaced, and no summary message for an empty summary', async () => {
    const { session_id } = await create();
    const call = {
      type: 'function_call' as const,
      id: 'call_1',
      name: 'agent_trigger',
      arguments: { function_id: 'fs::read' },
    };
    const result = (id: string, text: string): SessionEntryBody => ({
      type: 'message',
      message: {
        role: 'function_result',
        function_call_id: id,
        function_id: 'fs::read',
        content: [{ type: 'text', text }],
        is_error: false,
      },
    });
    await add(session_id, user('u1'), { entry_id: 'u1' });
    await add(session_id, assistant('a1', [call]), { entry_id: 'a1' });
    await add(session_id, result('call_1', 'x'.repeat(5_000)), { entry_id: 'r1' });
    await add(
      session_id,
      {
        type: 'compaction',
        summary: '',
        tokens_before: 2_000,
        first_kept_entry_id: 'u1',
        // u1 is not a function result: its replacement is ignored; an unknown id too.
        replaced_results: { r1: '[output pruned]', u1: 'not applied', gone: 'not applied' },
        details: { stage: 'prune' },
      },
      { entry_id: 'c1' },
    );
    const read = await msgs(session_id);
    expect(read.compaction_entry_id).toBe('c1');
    expect(read.messages.map((m: { entry_id: string }) => m.entry_id)).toEqual(['u1', 'a1', 'r1']);
    expect(read.messages[0].message.content).toBe('u1');
    expect(read.messages[2].message).toMatchObject({
      role: 'function_result',
      function_call_id: 'call_1',
      content: [{ type: 'text', text: '[output pruned]' }],
    });
    // The transcript keeps the original; get_entry returns entries with their details.
    const original = await s.bus.call(contracts.session.getEntry, { session_id, entry_id: 'r1' });
    expect(JSON.stringify(original.entry)).toContain('x'.repeat(5_000));
    const compaction = await s.bus.call(contracts.session.getEntry, { session_id, entry_id: 'c1' });
    expect(compaction.entry).toMatchObject({
      type: 'compaction',
      id: 'c1',
      parent_id: 'r1',
      details: { stage: 'prune' },
    });
    expect(await codeOf(s.bus.call(contracts.session.getEntry, { session_id, entry_id: 'nope' }))).toBe('not_found');
    expect(
      await codeOf(s.bus.call(contracts.session.getEntry, { session_id: 'no-such-session', entry_id: 'c1' })),
    ).toBe('not_found');
  });

  it('set_leaf switches branches in place; appends then grow the new branch', async () => {
    const { session_id } = await create();
    for (const id of ['r', 'a', 'b']) await add(session_id, user(id), { entry_id: id });
    const switched = await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'a' });
    expect(switched).toEqual({ session_id, leaf_id: 'a', previous_leaf_id: 'b', changed: true });
    await add(session_id, { type: 'branch_summary', summary: 'tried b', from_entry_id: 'b' }, { entry_id: 'bs' });
    await add(session_id, user('c'), { entry_id: 'c' });
    expect(texts(await msgs(session_id))).toEqual(['r', 'a', `${BRANCH_SUMMARY_PREFIX}tried b`, 'c']);
    expect(texts(await msgs(session_id, 'b'))).toEqual(['r', 'a', 'b']);
    expect((await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'c' })).changed).toBe(false);
    expect(await codeOf(s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'ghost' }))).toBe('not_found');

    const t = await s.bus.call(contracts.session.tree, { session_id });
    expect(t.roots).toEqual(['r']);
    expect(t.active_path).toEqual(['r', 'a', 'bs', 'c']);
    const children = Object.fromEntries(
      t.nodes.map((n: { entry: SessionEntry; children: string[] }) => [n.entry.id, n.children]),
    );
    expect(children).toEqual({ r: ['a'], a: ['b', 'bs'], b: [], bs: ['c'], c: [] });
    expect(t.nodes.map((n: { entry: SessionEntry }) => n.entry.seq)).toEqual(
      [...t.nodes.map((n: { entry: SessionEntry }) => n.entry.seq)].sort((x, y) => x - y),
    );

    // null starts a new root.
    await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: null });
    await add(session_id, user('fresh'), { entry_id: 'fresh' });
    expect(texts(await msgs(session_id))).toEqual(['fresh']);
    expect((await s.bus.call(contracts.session.tree, { session_id })).roots).toEqual(['r', 'fresh']);
  });

  it('forks the path to an entry into a new session, leaving the source as it was', async () => {
    const { session_id } = await create({ display_name: 'source' });
    for (const id of ['f1', 'f2', 'f3', 'f4']) await add(session_id, user(id), { entry_id: id });
    await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'f2' });
    await add(session_id, user('side'), { entry_id: 'side' });
    const before = await s.bus.call(contracts.session.tree, { session_id });

    const { session } = await s.bus.call(contracts.session.fork, { session_id, entry_id: 'f3' });
    expect(session).toMatchObject({
      display_name: 'source',
      leaf_id: 'f3',
      entry_count: 3,
      forked_from: { session_id, entry_id: 'f3' },
    });
    expect(texts(await msgs(session.session_id))).toEqual(['f1', 'f2', 'f3']);
    expect((await s.bus.call(contracts.session.tree, { session_id: session.session_id })).nodes).toHaveLength(3);
    await add(session.session_id, user('forked on'));
    expect(texts(await msgs(session.session_id))).toEqual(['f1', 'f2', 'f3', 'forked on']);
    expect(await s.bus.call(contracts.session.tree, { session_id })).toEqual(before);

    const named = await s.bus.call(contracts.session.fork, {
      session_id,
      entry_id: 'f1',
      new_session_id: 'fork-target',
      display_name: 'mine',
    });
    expect(named.session).toMatchObject({ session_id: 'fork-target', display_name: 'mine', leaf_id: 'f1' });
    expect(
      await codeOf(s.bus.call(contracts.session.fork, { session_id, entry_id: 'f1', new_session_id: 'fork-target' })),
    ).toBe('conflict');
    expect(await codeOf(s.bus.call(contracts.session.fork, { session_id, entry_id: 'ghost' }))).toBe('not_found');
  });

  it('clones the whole tree with the same active leaf', async () => {
    const { session_id } = await create();
    for (const id of ['k1', 'k2', 'k3']) await add(session_id, user(id), { entry_id: id });
    await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'k1' });
    await add(session_id, user('k4'), { entry_id: 'k4' });
    const { session } = await s.bus.call(contracts.session.clone, { session_id });
    expect(session).toMatchObject({ leaf_id: 'k4', entry_count: 4, cloned_from: session_id });
    expect(texts(await msgs(session.session_id))).toEqual(['k1', 'k4']);
    expect(texts(await msgs(session.session_id, 'k3'))).toEqual(['k1', 'k2', 'k3']);
    const strip = (t: { nodes: Array<{ entry: SessionEntry; children: string[] }> }) =>
      t.nodes.map((n) => ({ ...n, entry: { ...n.entry, updated_at: 0 } }));
    expect(strip(await s.bus.call(contracts.session.tree, { session_id: session.session_id }))).toEqual(
      strip(await s.bus.call(contracts.session.tree, { session_id })),
    );
  });

  it('applies streamed revisions, last write wins by revision', async () => {
    const { session_id } = await create();
    await add(session_id, user('q'));
    await add(session_id, assistant(''), { entry_id: 'live' });
    const update = (revision: number, text: string) =>
      s.bus.call(contracts.session.updateEntry, { session_id, entry_id: 'live', revision, entry: assistant(text) });
    expect(await update(1, 'Hel')).toMatchObject({ applied: true, revision: 1 });
    expect(await update(3, 'Hello wor')).toMatchObject({ applied: true, revision: 3 });
    expect(await update(2, 'Hello')).toMatchObject({ applied: false, revision: 3 });
    expect(await update(3, 'same revision')).toMatchObject({ applied: false, revision: 3 });
    expect(texts(await msgs(session_id))).toEqual(['q', 'Hello wor']);
    expect(
      await codeOf(
        s.bus.call(contracts.session.updateEntry, {
          session_id,
          entry_id: 'live',
          revision: 9,
          entry: user('role change'),
        }),
      ),
    ).toBe('conflict');
    expect(
      await codeOf(
        s.bus.call(contracts.session.updateEntry, { session_id, entry_id: 'ghost', revision: 1, entry: user('x') }),
      ),
    ).toBe('not_found');
  });

  it('lists sessions newest first, paged, with entry counts and the last message', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { session_id } = await create({ display_name: `page-${i}` });
      ids.push(session_id);
      await add(session_id, user(`hello ${i}`));
      if (i === 3) await add(session_id, custom('marker', null));
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const seen: Array<SessionInfo & { last_message: { text: string } | null }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { sessions: typeof seen; total: number; next_cursor: string | null } = await s.bus.call(
        contracts.session.list,
        {
          limit: 2,
          ...(cursor ? { cursor } : {}),
        },
      );
      seen.push(...page.sessions);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(seen.length).toBe(new Set(seen.map((x) => x.session_id)).size);
    const mine = seen.filter((x) => ids.includes(x.session_id));
    expect(mine.map((x) => x.display_name)).toEqual(['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    expect(mine[1]).toMatchObject({ entry_count: 2, last_message: { role: 'user', text: 'hello 3' } });
    expect(pages).toBeGreaterThan(2);
    const byCreation = await s.bus.call(contracts.session.list, { order_by: 'created_at', limit: 500 });
    const created = byCreation.sessions.map((x: SessionInfo) => x.created_at);
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('deletes a session with its entries and inboxes', async () => {
    const { session_id } = await create();
    await add(session_id, user('bye'));
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item: 'pending' });
    expect(await s.bus.call(contracts.session.delete, { session_id })).toEqual({ session_id, deleted_entries: 1 });
    expect(await codeOf(getInfo(session_id))).toBe('not_found');
    expect(await s.bus.call(contracts.engine.stateList, { scope: `session_entries:${session_id}` })).toEqual([]);
    expect(await s.bus.call(contracts.engine.stateList, { scope: `session_inbox:${session_id}` })).toEqual([]);
    expect(await codeOf(s.bus.call(contracts.session.delete, { session_id }))).toBe('not_found');
  });

  it('queues items in named inboxes: push, peek, drain', async () => {
    const { session_id } = await create();
    expect(await s.bus.call(contracts.session.inboxDrain, { session_id, name: 'steering' })).toEqual({ items: [] });
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item: { text: 'stop and test' } });
    const pushed = await s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item: 'second' });
    expect(pushed).toMatchObject({ size: 2 });
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'followup', item: 'later' });
    const peeked = await s.bus.call(contracts.session.inboxPeek, { session_id, name: 'steering' });
    expect(peeked.items.map((i: { item: unknown }) => i.item)).toEqual([{ text: 'stop and test' }, 'second']);
    const first = await s.bus.call(contracts.session.inboxPeekFirst, { session_id, names: ['steering', 'followup'] });
    expect(first).toEqual({ name: 'steering', ...peeked });
    const drained = await s.bus.call(contracts.session.inboxDrain, { session_id, name: 'steering' });
    expect(drained).toEqual(peeked);
    expect(
      await s.bus.call(contracts.session.inboxPeekFirst, { session_id, names: ['steering', 'followup'] }),
    ).toMatchObject({
      name: 'followup',
      items: [{ item: 'later' }],
    });
    expect(await codeOf(s.bus.call(contracts.session.inboxPeekFirst, { session_id, names: [] }))).toBe(
      'invalid_payload',
    );
    expect(
      await codeOf(s.bus.call(contracts.session.inboxPeekFirst, { session_id: 'ghost', names: ['steering'] })),
    ).toBe('not_found');
    expect(await s.bus.call(contracts.session.inboxPeek, { session_id, name: 'steering' })).toEqual({ items: [] });
    expect((await s.bus.call(contracts.session.inboxPeek, { session_id, name: 'followup' })).items).toHaveLength(1);

    // Peek, handle, then acknowledge exactly what was handled.
    for (const item of ['a', 'b', 'c'])
      await s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item });
    const seen = (await s.bus.call(contracts.session.inboxPeek, { session_id, name: 'steering' })).items;
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item: 'd (arrived meanwhile)' });
    const acked = await s.bus.call(contracts.session.inboxAck, {
      session_id,
      name: 'steering',
      ids: [seen[0].id, seen[2].id, 'unknown'],
    });
    expect(acked).toEqual({ removed: [seen[0].id, seen[2].id] });
    expect(
      (await s.bus.call(contracts.session.inboxPeek, { session_id, name: 'steering' })).items.map(
        (i: { item: unknown }) => i.item,
      ),
    ).toEqual(['b', 'd (arrived meanwhile)']);
    expect(await s.bus.call(contracts.session.inboxAck, { session_id, name: 'steering', ids: [seen[0].id] })).toEqual({
      removed: [],
    });
    expect(
      await codeOf(s.bus.call(contracts.session.inboxPush, { session_id: 'ghost', name: 'steering', item: 1 })),
    ).toBe('not_found');
  });

  it('an append reports how many inbox items wait, so the turn need not read its inboxes', async () => {
    const { session_id } = await create();
    const waiting = async (text: string) => (await add(session_id, user(text))).inbox_waiting;
    expect(await waiting('first')).toBe(0);
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item: 'a' });
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'followup', item: 'b' });
    expect(await waiting('second')).toBe(2);
    const { items } = await s.bus.call(contracts.session.inboxPeek, {
      session_id,
      name: 'steering',
    });
    await s.bus.call(contracts.session.inboxAck, { session_id, name: 'steering', ids: items.map((i) => i.id) });
    await s.bus.call(contracts.session.inboxDrain, { session_id, name: 'followup' });
    expect(await waiting('third')).toBe(0);
  });

  it('exports jsonl (the whole tree), markdown and html (the active path), escaping hostile content', async () => {
    const hostile = '<script>alert("pwned")</script>';
    const { session_id } = await create({ display_name: hostile });
    await add(session_id, user(hostile), { entry_id: 'x1' });
    await add(session_id, assistant('</pre><img src=x onerror=alert(1)>'), { entry_id: 'x2' });
    await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'x1' });
    await add(session_id, user('other branch'), { entry_id: 'x3' });

    const jsonl = await s.bus.call(contracts.session.export, { session_id, format: 'jsonl' });
    expect(jsonl.mime_type).toBe('application/x-ndjson');
    const lines = jsonl.content
      .trim()
      .split('\n')
      .map((line: string) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ type: 'session', version: 1, session_id, display_name: hostile });
    expect(lines.slice(1).map((e: SessionEntry) => e.id)).toEqual(['x1', 'x2', 'x3']);
    expect(lines[1]).toMatchObject({ type: 'message', message: { content: hostile } });

    const md = await s.bus.call(contracts.session.export, { session_id, format: 'markdown' });
    expect(md.content).toContain('other branch');
    expect(md.content).not.toContain('onerror');

    const html = await s.bus.call(contracts.session.export, { session_id, format: 'html', leaf_id: 'x2' });
    expect(html.mime_type).toBe('text/html; charset=utf-8');
    expect(html.content).not.toMatch(/<script|<img src=x/i);
    expect(html.content).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html.content).toContain('&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html.content).not.toContain('other branch');
  });

  it('publishes every change on session::events, ordered by a per-session seq', async () => {
    const { session_id } = (await s.bus.call(contracts.session.ensure, { session_id: 'evented' })).session;
    const events = collectStream<SessionEvent>(s.client.client, 'session::events', session_id);
    await s.bus.call(contracts.engine.functionsList, {});
    await add(session_id, user('u'), { entry_id: 'e1' });
    await add(session_id, assistant(''), { entry_id: 'e2' });
    await add(session_id, user('dup'), { entry_id: 'e1' });
    await s.bus.call(contracts.session.updateEntry, {
      session_id,
      entry_id: 'e2',
      revision: 1,
      entry: assistant('streamed'),
    });
    await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'e1' });
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'followup', item: 'x' });
    await s.bus.call(contracts.session.inboxDrain, { session_id, name: 'followup' });
    const { item_id } = await s.bus.call(contracts.session.inboxPush, { session_id, name: 'steering', item: 'y' });
    await s.bus.call(contracts.session.inboxAck, { session_id, name: 'steering', ids: [item_id] });
    await s.bus.call(contracts.session.delete, { session_id });
    await events.waitFor(9);
    await new Promise((resolve) => setTimeout(resolve, 100));
    events.stop();
    const data = events.data().sort((a, b) => a.seq - b.seq);
    expect(data.map((e) => e.type)).toEqual([
      'entry_appended',
      'entry_appended',
      'entry_updated',
      'leaf_changed',
      'inbox_pushed',
      'inbox_drained',
      'inbox_pushed',
      'inbox_acked',
      'session_deleted',
    ]);
    expect(data.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(data[7]).toMatchObject({ name: 'steering', item_ids: [item_id] });
    expect(data[2]).toMatchObject({
      entry_id: 'e2',
      revision: 1,
      entry: { message: { content: [{ text: 'streamed' }] } },
    });
    expect(data[3]).toMatchObject({ leaf_id: 'e1', previous_leaf_id: 'e2' });
    expect(events.events.every((e) => e.groupId === session_id)).toBe(true);
  });

  it('announces created sessions, forks and clones included', async () => {
    const groups = ['announced', 'announced-fork', 'announced-clone'];
    const collectors = groups.map((group) => collectStream<SessionEvent>(s.client.client, 'session::events', group));
    await s.bus.call(contracts.engine.functionsList, {});
    await s.bus.call(contracts.session.create, { session_id: 'announced' });
    await add('announced', user('hi'), { entry_id: 'h' });
    await s.bus.call(contracts.session.fork, {
      session_id: 'announced',
      entry_id: 'h',
      new_session_id: 'announced-fork',
    });
    await s.bus.call(contracts.session.clone, { session_id: 'announced', new_session_id: 'announced-clone' });
    const [created, forked, cloned] = await Promise.all(
      collectors.map(async (c) => (await c.waitFor(1)).map((e) => e.event.event?.data as SessionEvent)),
    );
    for (const c of collectors) c.stop();
    expect(created![0]).toMatchObject({ type: 'session_created', session_id: 'announced', seq: 1 });
    expect(forked![0]).toMatchObject({
      type: 'session_created',
      forked_from: { session_id: 'announced', entry_id: 'h' },
    });
    expect(cloned![0]).toMatchObject({ type: 'session_created', cloned_from: 'announced' });
    // The new sessions' events continue after their entries' sequence numbers.
    expect(forked![0]!.seq).toBe((await getInfo('announced-fork')).seq);
  });
});
