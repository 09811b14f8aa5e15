import { defineFunction, type Logger } from '@iii-harness/runtime';
import { entryId, sessionEntry, sessionEntryBody, sessionId } from '@iii-harness/types';
import { z } from 'zod';
import { Appender, type AppendOutcome } from './append-core.js';
import { type ChainItem, planChain } from './append-plan.js';
import { type Position, type StoredEntry, toSessionEntry } from './records.js';
import type { SessionStore } from './store.js';

/** Absent: chain onto the active leaf. null: start a new root. An id: append under that entry. */
const parentId = entryId.nullable().optional();

const appended = z.object({
  entry_id: entryId,
  created: z.boolean().describe('false when the entry_id existed: nothing was changed'),
  entry: sessionEntry,
});

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
  const meta = await store.requireMeta(session);
  const plan = await planChain(store, meta, parent, items);
  const appender = new Appender(store, logger);
  const outcomes: AppendOutcome[] = [];
  let pending: StoredEntry[] = [];
  let pendingChainsOntoLeaf = false;
  let previous: Position | null = plan.start;
  const commitPending = async () => {
    if (pending.length === 0) return;
    outcomes.push(...(await appender.commit(meta, pending, pendingChainsOntoLeaf)));
    previous = outcomes.at(-1)!.entry;
    pending = [];
  };
  for (const [index, draft] of plan.drafts.entries()) {
    if (draft.body.type === 'compaction') await commitPending();
    const begun = await appender.begin(meta, draft, previous);
    if ('written' in begun) {
      if (pending.length === 0)
        pendingChainsOntoLeaf = index === 0 && plan.chainOntoLeaf && draft.body.type !== 'compaction';
      pending.push(begun.written);
      previous = begun.written;
      continue;
    }
    await commitPending();
    const outcome = await appender.settle(meta, draft, previous, begun.taken);
    outcomes.push(outcome);
    previous = outcome.entry;
  }
  await commitPending();
  return outcomes.map(({ entry, created }) => ({ entry_id: entry.id, created, entry: toSessionEntry(entry) }));
}

export const append = (store: SessionStore) =>
  defineFunction({
    id: 'session::append',
    description:
      'Append an entry and make it the active leaf; idempotent on entry_id (an existing id changes nothing and is returned)',
    input: z
      .object({ session_id: sessionId, entry: sessionEntryBody, entry_id: entryId.optional(), parent_id: parentId })
      .strict(),
    output: appended,
    async handler({ session_id, entry, entry_id, parent_id }, { logger }) {
      const [result] = await appendChain(store, logger, session_id, parent_id, [{ entry, entry_id }]);
      return result!;
    },
  });

export const appendBatch = (store: SessionStore) =>
  defineFunction({
    id: 'session::append_batch',
    description:
      'Append entries as one chain (each under the previous one); idempotent per entry_id; the last becomes the active leaf',
    input: z
      .object({
        session_id: sessionId,
        parent_id: parentId,
        entries: z
          .array(z.object({ entry: sessionEntryBody, entry_id: entryId.optional() }).strict())
          .min(1)
          .max(store.config.max_entries_per_batch),
      })
      .strict()
      .superRefine(({ entries }, ctx) => {
        const seen = new Set<string>();
        entries.forEach(({ entry_id }, i) => {
          if (entry_id === undefined) return;
          if (seen.has(entry_id))
            ctx.addIssue({
              code: 'custom',
              path: ['entries', i, 'entry_id'],
              message: `entry_id ${entry_id} appears twice`,
            });
          seen.add(entry_id);
        });
      }),
    output: z.object({ entries: z.array(appended) }),
    async handler({ session_id, parent_id, entries }, { logger }) {
      return { entries: await appendChain(store, logger, session_id, parent_id, entries) };
    },
  });
