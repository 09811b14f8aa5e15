import { type Contract, type ContractInput, contracts } from '@iii-harness/types';
import { assistant, custom, type Stack, startStack, user } from './stack.js';

/**
 * How many engine calls (state::*, stream::*) the session worker makes per public function: each
 * one is a full engine round trip, and the turn loop calls append, messages and inbox::peek
 * several times per turn. Counted by wrapping the worker's Bus, so a change that adds a round trip
 * to a hot path fails here. `OPS_TABLE=1 npx jest engine-ops` prints the table.
 */
let s: Stack;
const ops: string[] = [];
beforeAll(async () => {
  s = await startStack();
  const bus = s.worker.bus;
  const invoke = bus.invoke.bind(bus);
  bus.invoke = (functionId: string, payload?: unknown, options?: never) => {
    const scope = (payload as { scope?: string } | undefined)?.scope;
    ops.push(scope ? `${functionId} ${scope.split(':')[0]}` : functionId);
    return invoke(functionId, payload, options);
  };
});
afterAll(async () => {
  await s.close();
  if (process.env.OPS_TABLE)
    console.log(
      [
        '| function | case | ops | calls |',
        '|---|---|---:|---|',
        ...rows.map((r) => `| ${r.fn} | ${r.label} | ${r.ops.length} | ${r.ops.join(', ')} |`),
      ].join('\n'),
    );
});

const rows: Array<{ fn: string; label: string; ops: string[] }> = [];

/** The engine calls the worker made to serve one call of `fn`. */
async function measure<C extends Contract>(fn: C, label: string, payload: ContractInput<C>): Promise<string[]> {
  ops.length = 0;
  const outcome = await s.bus.call(fn, payload).then(
    () => '',
    (error: { code: string }) => ` → ${error.code}`,
  );
  const made = [...ops];
  label += outcome;
  rows.push({ fn: fn.id.replace('session::', ''), label, ops: made });
  return made;
}

const create = async () => (await s.bus.call(contracts.session.create, {})).session.session_id;

describe('engine calls per function', () => {
  it('counts them', async () => {
    const session_id = await create();
    await measure(contracts.session.ensure, 'new session', { session_id: `ensured-${session_id}` });
    await measure(contracts.session.ensure, 'existing session', { session_id });
    await measure(contracts.session.get, '', { session_id });
    await measure(contracts.session.append, 'message, entry_id, first entry', {
      session_id,
      entry_id: 'u1',
      entry: user('u1'),
    });
    await measure(contracts.session.append, 'message, entry_id', {
      session_id,
      entry_id: 'a1',
      entry: assistant('a1'),
    });
    await measure(contracts.session.append, 'custom, entry_id', {
      session_id,
      entry_id: 'n1',
      entry: custom('notice', { text: 'n' }),
    });
    await measure(contracts.session.append, 'message, no entry_id', { session_id, entry: user('u2') });
    await measure(contracts.session.append, 'duplicate entry_id', {
      session_id,
      entry_id: 'a1',
      entry: assistant('again'),
    });
    await measure(contracts.session.append, 'parent_id given', {
      session_id,
      entry_id: 'b1',
      parent_id: 'a1',
      entry: user('b1'),
    });
    // A session whose record this process has not seen (another copy created it): read first.
    const unseen = `unseen-${session_id}`;
    await s.bus.call(contracts.engine.stateSet, {
      scope: 'session_meta',
      key: unseen,
      value: { session_id: unseen, created_at: 1, updated_at: 1, leaf_id: null, entry_count: 0, seq: 1 },
    });
    await measure(contracts.session.append, 'message, entry_id, session not seen here', {
      session_id: unseen,
      entry_id: 'x1',
      entry: user('x1'),
    });
    await measure(contracts.session.appendBatch, '1 entry', {
      session_id,
      entries: [{ entry_id: 'r1', entry: user('r1') }],
    });
    await measure(contracts.session.appendBatch, '3 entries', {
      session_id,
      entries: ['r2', 'r3', 'r4'].map((entry_id) => ({ entry_id, entry: user(entry_id) })),
    });
    await measure(contracts.session.updateEntry, '', { session_id, entry_id: 'r4', revision: 1, entry: user('r4 v1') });
    await measure(contracts.session.setLeaf, '', { session_id, entry_id: 'a1' });
    await measure(contracts.session.messages, 'path of 2', { session_id });
    await s.bus.call(contracts.session.setLeaf, { session_id, entry_id: 'r4' });
    await measure(contracts.session.messages, 'path of 6', { session_id });
    await measure(contracts.session.messages, 'leaf_id given', { session_id, leaf_id: 'a1' });
    const empty = await create();
    await measure(contracts.session.messages, 'empty session', { session_id: empty });

    await measure(contracts.session.inboxPeek, 'never pushed', { session_id, name: 'steering' });
    await measure(contracts.session.inboxPeekFirst, 'both empty', { session_id, names: ['steering', 'followup'] });
    await measure(contracts.session.inboxPush, '', { session_id, name: 'steering', item: 'hi' });
    const { items } = await s.bus.call(contracts.session.inboxPeek, {
      session_id,
      name: 'steering',
    });
    await measure(contracts.session.inboxPeekFirst, 'first has 1 item', {
      session_id,
      names: ['steering', 'followup'],
    });
    await measure(contracts.session.inboxPeek, '1 item', { session_id, name: 'steering' });
    await measure(contracts.session.inboxAck, '1 item', { session_id, name: 'steering', ids: items.map((i) => i.id) });
    await measure(contracts.session.inboxPeek, 'emptied by ack', { session_id, name: 'steering' });
    await s.bus.call(contracts.session.inboxPush, { session_id, name: 'followup', item: 'later' });
    await measure(contracts.session.inboxDrain, '1 item', { session_id, name: 'followup' });
    await measure(contracts.session.inboxDrain, 'empty', { session_id, name: 'followup' });
    await measure(contracts.session.inboxPeek, 'emptied by drain', { session_id, name: 'followup' });
    await measure(contracts.session.inboxPeek, 'missing session', { session_id: 'no-such-session', name: 'steering' });
    await measure(contracts.session.append, 'missing session', {
      session_id: 'no-such-session',
      entry_id: 'x',
      entry: user('x'),
    });
    await measure(contracts.session.messages, 'missing session', { session_id: 'no-such-session' });

    const counts = Object.fromEntries(rows.map((r) => [`${r.fn}: ${r.label}`, r.ops.length]));
    expect(counts).toEqual({
      'ensure: new session': 4,
      'ensure: existing session': 1,
      'get: ': 1,
      'append: message, entry_id, first entry': 4,
      'append: message, entry_id': 4,
      'append: custom, entry_id': 4,
      'append: message, no entry_id': 4,
      'append: duplicate entry_id': 2,
      'append: parent_id given': 5,
      'append: message, entry_id, session not seen here': 5,
      'append_batch: 1 entry': 4,
      'append_batch: 3 entries': 10,
      'update_entry: ': 4,
      'set_leaf: ': 4,
      'messages: path of 2': 2,
      'messages: path of 6': 2,
      'messages: leaf_id given': 3,
      'messages: empty session': 1,
      'inbox::peek: never pushed': 1,
      'inbox::peek_first: both empty': 1,
      'inbox::peek_first: first has 1 item': 2,
      'inbox::push: ': 3,
      'inbox::peek: 1 item': 2,
      'inbox::ack: 1 item': 4,
      'inbox::peek: emptied by ack': 1,
      'inbox::drain: 1 item': 4,
      'inbox::drain: empty': 1,
      'inbox::peek: emptied by drain': 1,
      'inbox::peek: missing session → not_found': 1,
      'append: missing session → not_found': 1,
      'messages: missing session → not_found': 1,
    });
  });
});
