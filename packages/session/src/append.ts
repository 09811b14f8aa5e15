import { type Handler, HarnessError, type Logger } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { Appender, type AppendOutcome } from './append-core.js';
import { type ChainItem, planChain } from './append-plan.js';
import { type Position, type StoredEntry, toSessionEntry } from './records.js';
import type { SessionStore } from './store.js';

/**
 * Append `items` as one chain. Consecutive new entries are written, then committed together by one
 * update of the session record; an id that exists already (or is being written by another call)
 * ends the chain so far, and the entries after it go under it. A compaction starts a chain of its
 * own: it is placed where its path was checked, never re-linked onto the leaf.
 */
async function appendChain(
  store: SessionStore,
  logger: Logger,
  session: string,
  parent: string | null | undefined,
  items: ChainItem[],
) {
  const plan = await planChain(store, session, parent, items);
  const appender = new Appender(store, logger, session);
  const outcomes: AppendOutcome[] = [];
  let pending: StoredEntry[] = [];
  let pendingChainsOntoLeaf = false;
  let previous: Position | null = plan.start;
  const commitPending = async () => {
    if (pending.length === 0) return;
    outcomes.push(...(await appender.commit(pending, pendingChainsOntoLeaf)));
    previous = outcomes.at(-1)!.entry;
    pending = [];
  };
  for (const [index, draft] of plan.drafts.entries()) {
    if (draft.body.type === 'compaction') await commitPending();
    const begun = await appender.begin(draft, previous);
    if ('written' in begun) {
      if (pending.length === 0)
        pendingChainsOntoLeaf = index === 0 && plan.chainOntoLeaf && draft.body.type !== 'compaction';
      pending.push(begun.written);
      previous = begun.written;
      continue;
    }
    await commitPending();
    const outcome = await appender.settle(draft, previous, begun.taken);
    outcomes.push(outcome);
    previous = outcome.entry;
  }
  await commitPending();
  return outcomes.map(({ entry, created, inbox_waiting }) => ({
    entry_id: entry.id,
    created,
    entry: toSessionEntry(entry),
    ...(inbox_waiting !== undefined ? { inbox_waiting } : {}),
  }));
}

export const append = (store: SessionStore) =>
  (async ({ session_id, entry, entry_id, parent_id }, { logger }) => {
    const [result] = await appendChain(store, logger, session_id, parent_id, [{ entry, entry_id }]);
    return result!;
  }) satisfies Handler<typeof contracts.session.append>;

export const appendBatch = (store: SessionStore) =>
  (async ({ session_id, parent_id, entries }, { logger }) => {
    if (entries.length > store.config.max_entries_per_batch)
      throw new HarnessError('invalid_payload', `entries: at most ${store.config.max_entries_per_batch} per batch`);
    return { entries: await appendChain(store, logger, session_id, parent_id, entries) };
  }) satisfies Handler<typeof contracts.session.appendBatch>;
