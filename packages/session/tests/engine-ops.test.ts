import type { SessionInfo } from '@iii-harness/types';
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
async function measure(fn: string, label: string, payload: unknown): Promise<string[]> {
  ops.length = 0;
  const outcome = await s.call(fn, payload).then(
    () => '',
    (error: { code: string }) => ` → ${error.code}`,
  );
  const made = [...ops];
  label += outcome;
  rows.push({ fn: fn.replace('session::', ''), label, ops: made });
  return made;
}

const create = async () => (await s.call<{ session: SessionInfo }>('session::create', {})).session.session_id;

describe('engine calls per function', () => {
  it('counts them', async () => {
    const session_id = await create();
    await measure('session::ensure', 'new session', { session_id: `ensured-${session_id}` });
    await measure('session::ensure', 'existing session', { session_id });
    await measure('session::get', '', { session_id });
    await measure('session::append', 'message, entry_id, first entry', {
      session_id,
      entry_id: 'u1',
      entry: user('u1'),
    });
    await measure('session::append', 'message, entry_id', { session_id, entry_id: 'a1', entry: assistant('a1') });
    await measure('session::append', 'custom, entry_id', {
      session_id,
      entry_id: 'n1',
      entry: custom('notice', { text: 'n' }),
    });
    await measure('session::append', 'message, no entry_id', { session_id, entry: user('u2') });
    await measure('session::append', 'duplicate entry_id', { session_id, entry_id: 'a1', entry: assistant('again') });
    await measure('session::append', 'parent_id given', {
      session_id,
      entry_id: 'b1',
      parent_id: 'a1',
      entry: user('b1'),
    });
    // A session whose record this process has not seen (another copy created it): read first.
    const unseen = `unseen-${session_id}`;
    await s.call('state::set', {
      scope: 'session_meta',
      key: unseen,
      value: { session_id: unseen, created_at: 1, updated_at: 1, leaf_id: null, entry_count: 0, seq: 1 },
    });
    await measure('session::append', 'message, entry_id, session not seen here', {
      session_id: unseen,
      entry_id: 'x1',
      entry: user('x1'),
    });
    await measure('session::append_batch', '1 entry', { session_id, entries: [{ entry_id: 'r1', entry: user('r1') }] });
    await measure('session::append_batch', '3 entries', {
      session_id,
      entries: ['r2', 'r3', 'r4'].map((entry_id) => ({ entry_id, entry: user(entry_id) })),
    });
    await measure('session::update_entry', '', { session_id, entry_id: 'r4', revision: 1, entry: user('r4 v1') });
    await measure('session::set_leaf', '', { session_id, entry_id: 'a1' });
    await measure('session::messages', 'path of 2', { session_id });
    await s.call('session::set_leaf', { session_id, entry_id: 'r4' });
    await measure('session::messages', 'path of 6', { session_id });
    await measure('session::messages', 'leaf_id given', { session_id, leaf_id: 'a1' });
    const empty = await create();
    await measure('session::messages', 'empty session', { session_id: empty });

    await measure('session::inbox::peek', 'never pushed', { session_id, name: 'steering' });
    await measure('session::inbox::peek_first', 'both empty', { session_id, names: ['steering', 'followup'] });
    await measure('session::inbox::push', '', { session_id, name: 'steering', item: 'hi' });
    const { items } = await s.call<{ items: Array<{ id: string }> }>('session::inbox::peek', {
      session_id,
      name: 'steering',
    });
    await measure('session::inbox::peek_first', 'first has 1 item', { session_id, names: ['steering', 'followup'] });
    await measure('session::inbox::peek', '1 item', { session_id, name: 'steering' });
    await measure('session::inbox::ack', '1 item', { session_id, name: 'steering', ids: items.map((i) => i.id) });
    await measure('session::inbox::peek', 'emptied by ack', { session_id, name: 'steering' });
    await s.call('session::inbox::push', { session_id, name: 'followup', item: 'later' });
    await measure('session::inbox::drain', '1 item', { session_id, name: 'followup' });
    await measure('session::inbox::drain', 'empty', { session_id, name: 'followup' });
    await measure('session::inbox::peek', 'emptied by drain', { session_id, name: 'followup' });
    await measure('session::inbox::peek', 'missing session', { session_id: 'no-such-session', name: 'steering' });
    await measure('session::append', 'missing session', {
      session_id: 'no-such-session',
      entry_id: 'x',
      entry: user('x'),
    });
    await measure('session::messages', 'missing session', { session_id: 'no-such-session' });

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
