import { type Handler, HarnessError, type Logger, uuidv7 } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { claimKey, takeOver, waitUntilReady } from './claim.js';
import { isCompleteMeta, type StoredMeta, stampMeta, toSessionInfo } from './records.js';
import type { SessionStore } from './store.js';

export type SessionClaim = { claimed: true } | { claimed: false; existing: StoredMeta };

/**
 * Reserve a session id (create-if-absent, see claim.ts). When another call holds it, wait for that
 * session to be complete and return it; take a stalled creation over.
 */
export async function claimSession(store: SessionStore, id: string): Promise<SessionClaim> {
  const scope = store.config.meta_scope;
  const claim = await claimKey(store.bus, scope, id, 'session_id');
  if (claim.won) return { claimed: true };
  let observed: Record<string, unknown> = claim.current;
  for (let attempt = 0; attempt < 3; attempt++) {
    const waited = await waitUntilReady(
      store.bus,
      scope,
      id,
      isCompleteMeta,
      isCompleteMeta(observed) ? 0 : store.config.pending_timeout_ms,
      { stopWhenAbsent: true },
    );
    if (waited.ready) return { claimed: false, existing: store.parseMeta(id, waited.value) };
    if (waited.value === undefined) {
      // Vanished (a session deleted, or the fragment an update of an absent session took back):
      // no writer is left to wait for, so claim it afresh.
      const again = await claimKey(store.bus, scope, id, 'session_id');
      if (again.won) return { claimed: true };
      observed = again.current;
    } else {
      // Still a stub after the timeout: its writer stalled.
      if (await takeOver(store.bus, scope, id, waited.value)) return { claimed: true };
      observed = waited.value;
    }
  }
  throw new HarnessError('unavailable', `session ${id} is being created by another call that has not finished`);
}

/** Write a claimed session's record and announce it. */
export async function completeSession(store: SessionStore, logger: Logger, meta: StoredMeta): Promise<StoredMeta> {
  const record: StoredMeta = { ...meta, claimed: true };
  await store.bus.state.set(store.config.meta_scope, meta.session_id, stampMeta(record));
  store.hints.note(record);
  const { forked_from, cloned_from } = meta;
  await store.publish(
    logger,
    {
      type: 'session_created',
      session_id: meta.session_id,
      ...(forked_from ? { forked_from } : {}),
      ...(cloned_from ? { cloned_from } : {}),
    },
    meta.seq,
  );
  return record;
}

/** A fresh session record: empty, its creation event is sequence number 1. */
export function newSessionRecord(
  id: string,
  fields: { display_name?: string; cwd?: string; metadata?: StoredMeta['metadata'] },
): StoredMeta {
  const now = Date.now();
  return {
    session_id: id,
    created_at: now,
    updated_at: now,
    ...fields,
    leaf_id: null,
    leaf_depth: -1,
    leaf_window: 0,
    entry_count: 0,
    seq: 1,
    inboxes_counted: true,
  };
}

export const createSession = (store: SessionStore) =>
  (async ({ session_id, ...fields }, { logger }) => {
    const id = session_id ?? uuidv7();
    const claim = await claimSession(store, id);
    if (!claim.claimed)
      throw new HarnessError('conflict', `session ${id} already exists`, { reason: 'session_exists' });
    return {
      session: toSessionInfo(await completeSession(store, logger, newSessionRecord(id, fields))),
      created: true,
    };
  }) satisfies Handler<typeof contracts.session.create>;

export const ensureSession = (store: SessionStore) =>
  (async ({ session_id, ...fields }, { logger }) => {
    const current = await store.getMeta(session_id);
    if (current) return { session: toSessionInfo(current), created: false };
    const claim = await claimSession(store, session_id);
    if (!claim.claimed) return { session: toSessionInfo(claim.existing), created: false };
    return {
      session: toSessionInfo(await completeSession(store, logger, newSessionRecord(session_id, fields))),
      created: true,
    };
  }) satisfies Handler<typeof contracts.session.ensure>;
