import { codeOf, stateSnapshot } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { assistant, type Stack, startStack, user } from './stack.js';

let s: Stack;
const sid = 'fixture';
beforeAll(async () => {
  s = await startStack({ max_entries_per_batch: 3 });
  // A session with a branch, a streamed entry and a queued item, so a wrongly accepted call
  // would have something to change.
  await s.bus.call(contracts.session.create, { session_id: sid, display_name: 'fixture' });
  for (const id of ['r', 'a', 'b'])
    await s.bus.call(contracts.session.append, {
      session_id: sid,
      entry_id: id,
      entry: id === 'a' ? assistant(id) : user(id),
    });
  await s.bus.call(contracts.session.setLeaf, { session_id: sid, entry_id: 'a' });
  await s.bus.call(contracts.session.append, { session_id: sid, entry_id: 'c', entry: user('c') });
  await s.bus.call(contracts.session.inboxPush, { session_id: sid, name: 'steering', item: 'queued' });
});
afterAll(async () => {
  await s.close();
});

const tooLong = 'x'.repeat(300);
const badMessage = { type: 'message', message: { role: 'robot', content: 'beep' } };

/** [function, payload]: at least one malformed payload per function, plus invalid references. */
const cases: Array<[string, unknown]> = [
  ['session::create', { session_id: '../escape' }],
  ['session::create', { display_name: 42 }],
  ['session::create', { session_id: 'new-one', surprise: true }],
  ['session::ensure', {}],
  ['session::ensure', { session_id: 'ok-id', metadata: 'not an object' }],
  ['session::get', { session_id: '' }],
  ['session::list', { limit: 0 }],
  ['session::list', { cursor: 'garbage' }],
  ['session::list', { order_by: 'size' }],
  ['session::delete', { session_id: sid, force: true }],
  ['session::delete', {}],
  ['session::append', { session_id: sid, entry: badMessage }],
  ['session::append', { session_id: sid, entry: user('x'), entry_id: 'has space' }],
  ['session::append', { session_id: sid, entry: { type: 'custom', data: 1 } }],
  [
    'session::append',
    { session_id: sid, entry: { type: 'compaction', summary: 's', tokens_before: -1, first_kept_entry_id: 'a' } },
  ],
  [
    'session::append',
    { session_id: sid, entry: { type: 'compaction', summary: 's', tokens_before: 1, first_kept_entry_id: 'b' } },
  ],
  ['session::append', { session_id: sid, entry: { type: 'branch_summary', summary: 's', from_entry_id: 'ghost' } }],
  ['session::append', { session_id: sid, entry: user('x'), parent_id: 42 }],
  ['session::append_batch', { session_id: sid, entries: [] }],
  [
    'session::append_batch',
    {
      session_id: sid,
      entries: [{ entry: user('1') }, { entry: user('2') }, { entry: user('3') }, { entry: user('4') }],
    },
  ],
  [
    'session::append_batch',
    {
      session_id: sid,
      entries: [
        { entry: user('1'), entry_id: 'dup' },
        { entry: user('2'), entry_id: 'dup' },
      ],
    },
  ],
  [
    'session::append_batch',
    {
      session_id: sid,
      entries: [
        { entry: user('ok'), entry_id: 'fine' },
        { entry: { type: 'compaction', summary: 's', tokens_before: 1, first_kept_entry_id: 'b' } },
      ],
    },
  ],
  ['session::update_entry', { session_id: sid, entry_id: 'a', revision: 0, entry: assistant('x') }],
  ['session::update_entry', { session_id: sid, entry_id: 'a', revision: 1.5, entry: assistant('x') }],
  ['session::update_entry', { session_id: sid, entry_id: 'a', revision: 2, entry: badMessage }],
  ['session::messages', { session_id: sid, leaf_id: tooLong }],
  ['session::messages', { session_id: sid, extra: 1 }],
  ['session::tree', { session_id: 7 }],
  ['session::fork', { session_id: sid }],
  ['session::fork', { session_id: sid, entry_id: 'a', new_session_id: 'bad id' }],
  ['session::set_leaf', { session_id: sid }],
  ['session::set_leaf', { session_id: sid, entry_id: ['a'] }],
  ['session::clone', { session_id: sid, new_session_id: '' }],
  ['session::clone', { session_id: sid, display_name: tooLong }],
  ['session::export', { session_id: sid, format: 'pdf' }],
  ['session::export', { session_id: sid }],
  ['session::inbox::push', { session_id: sid, name: 'steering' }],
  ['session::inbox::push', { session_id: sid, name: 'Not A Name', item: 1 }],
  ['session::inbox::peek', { session_id: sid, name: '' }],
  ['session::inbox::peek_first', { session_id: sid, names: ['steering', ''] }],
  ['session::inbox::ack', { session_id: sid, name: 'steering', ids: [] }],
  ['session::inbox::ack', { session_id: sid, name: 'steering', ids: 'all' }],
  ['session::inbox::drain', { session_id: sid, name: 'steering', max: 1 }],
];

describe('malformed input', () => {
  it('covers every function', () => {
    const covered = new Set(cases.map(([id]) => id));
    expect(covered.size).toBe(19);
  });

  it('would notice a change (the snapshot is not blind)', async () => {
    const before = await stateSnapshot(s.bus);
    await s.bus.call(contracts.session.inboxPush, { session_id: sid, name: 'followup', item: 'probe' });
    expect(await stateSnapshot(s.bus)).not.toEqual(before);
    await s.bus.call(contracts.session.inboxDrain, { session_id: sid, name: 'followup' });
  });

  it.each(cases)('%s rejects %j with invalid_payload and changes no state', async (id, payload) => {
    const before = await stateSnapshot(s.bus);
    expect(await codeOf(s.invoke(id, payload))).toBe('invalid_payload');
    expect(await stateSnapshot(s.bus)).toEqual(before);
  });
});
