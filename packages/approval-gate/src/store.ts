import { type Bus, uuidv7, versionedRecord } from '@iii-harness/runtime';
import {
  type ApprovalDecisionRecord,
  type ApprovalSettings,
  approvalDecisionRecord,
  approvalHold,
  approvalSettings,
  traceCarrier,
} from '@iii-harness/types';
import { z } from 'zod';
import type { Config } from './config.js';

/**
 * The stored records, versioned. Version 0 is what was written before records carried `v`: the
 * same fields as version 1, so its migration only stamps the version.
 */
const stampOnly = (record: Record<string, unknown>) => record;
/** A hold as stored: with the trace of the turn that asked, which its decision continues (even after a restart). */
export const storedHold = approvalHold.extend({ trace: traceCarrier.optional() });
export type StoredHold = z.output<typeof storedHold>;
export const holdRecord = versionedRecord({
  what: 'approval hold',
  current: 1,
  unversioned: 0,
  schema: storedHold,
  migrations: { 0: stampOnly },
});
/**
 * A decision is the first of its votes. Every resolver (a person, the timeout sweep, a cancel — on
 * any copy of this worker) appends its vote atomically, so all of them see the same first vote,
 * and whoever then takes the hold acts on that one. Version 1 was the decision itself; appending
 * to such a record leaves its version alone, so it migrates with its decision first.
 */
const storedVote = approvalDecisionRecord.extend({ vote_id: z.string() });
type StoredVote = z.output<typeof storedVote>;
export const decisionRecord = versionedRecord({
  what: 'approval decision',
  current: 2,
  unversioned: 0,
  schema: z.object({ votes: z.array(storedVote).min(1) }),
  migrations: {
    0: stampOnly,
    1: ({ votes, ...flat }) => ({
      votes: [
        ...(typeof flat.decision === 'string' ? [{ ...flat, vote_id: 'v1' }] : []),
        ...(Array.isArray(votes) ? votes : []),
      ],
    }),
  },
});
export const settingsRecord = versionedRecord({
  what: 'approval settings',
  current: 1,
  unversioned: 0,
  schema: approvalSettings,
  migrations: { 0: stampOnly },
});

export const SCOPES = {
  pending: 'approval_pending',
  decisions: 'approval_decisions',
  settings: 'approval_settings',
} as const;

/** `<session>/<call>`: ids may not contain `/`, so the key is unambiguous. */
const holdKey = (sessionId: string, callId: string) => `${sessionId}/${callId}`;

/** Holds, decisions and settings in engine state, so every process can restart without losing one. */
export class ApprovalStore {
  constructor(
    private readonly bus: Bus,
    private readonly config: Config,
  ) {}

  /** Create a hold; an existing hold for the same call is kept as it is (redelivered steps). */
  async putHold(value: StoredHold): Promise<{ hold: StoredHold; created: boolean }> {
    const existing = await this.getHold(value.session_id, value.function_call_id);
    if (existing) return { hold: existing, created: false };
    await this.bus.state.set(
      SCOPES.pending,
      holdKey(value.session_id, value.function_call_id),
      holdRecord.stamp(value),
    );
    return { hold: value, created: true };
  }

  async getHold(sessionId: string, callId: string): Promise<StoredHold | undefined> {
    const key = holdKey(sessionId, callId);
    const value = await this.bus.state.get(SCOPES.pending, key);
    return value === undefined ? undefined : holdRecord.read(value, `${SCOPES.pending}/${key}`);
  }

  /** Remove the hold; the caller that gets it back is the one that resolves it. */
  async takeHold(sessionId: string, callId: string): Promise<StoredHold | undefined> {
    const key = holdKey(sessionId, callId);
    const old = await this.bus.state.delete(SCOPES.pending, key);
    return old == null ? undefined : holdRecord.read(old, `${SCOPES.pending}/${key}`);
  }

  async listHolds(sessionId?: string): Promise<StoredHold[]> {
    const all = (await this.bus.state.list(SCOPES.pending)).map((value) => holdRecord.read(value, SCOPES.pending));
    return all
      .filter((h) => !sessionId || h.session_id === sessionId)
      .sort((a, b) => a.requested_at - b.requested_at || a.function_call_id.localeCompare(b.function_call_id));
  }

  async getDecision(sessionId: string, callId: string): Promise<ApprovalDecisionRecord | undefined> {
    const key = holdKey(sessionId, callId);
    const value = await this.bus.state.get(SCOPES.decisions, key);
    return value === undefined ? undefined : firstVote(value, `${SCOPES.decisions}/${key}`).decision;
  }

  /** Vote for a decision; returns the decision (the first vote) and whether it is this vote. */
  async vote(
    sessionId: string,
    callId: string,
    value: ApprovalDecisionRecord,
  ): Promise<{ decision: ApprovalDecisionRecord; mine: boolean }> {
    const key = holdKey(sessionId, callId);
    const vote: StoredVote = { ...value, vote_id: uuidv7() };
    const { old_value, new_value } = await this.bus.state.update(SCOPES.decisions, key, [
      { type: 'append', path: 'votes', value: vote },
    ]);
    // A new record is stamped after the fact; one of an older version keeps it (see decisionRecord).
    if (old_value == null) await this.bus.state.update(SCOPES.decisions, key, [{ type: 'set', path: 'v', value: 2 }]);
    const first = firstVote(new_value, `${SCOPES.decisions}/${key}`);
    return { decision: first.decision, mine: first.vote_id === vote.vote_id };
  }

  async getSettings(sessionId: string): Promise<ApprovalSettings> {
    const value = await this.bus.state.get(SCOPES.settings, sessionId);
    if (value !== undefined) return settingsRecord.read(value, `${SCOPES.settings}/${sessionId}`);
    return { session_id: sessionId, mode: this.config.default_mode, always_allow: [], updated_at: 0 };
  }

  async putSettings(value: ApprovalSettings): Promise<ApprovalSettings> {
    const next = { ...value, always_allow: [...new Set(value.always_allow)].sort(), updated_at: Date.now() };
    await this.bus.state.set(SCOPES.settings, value.session_id, settingsRecord.stamp(next));
    return next;
  }

  async clearSettings(sessionId: string): Promise<void> {
    await this.bus.state.delete(SCOPES.settings, sessionId);
  }
}

function firstVote(value: unknown, where: string): { decision: ApprovalDecisionRecord; vote_id: string } {
  const { vote_id, ...decision } = decisionRecord.read(value, where).votes[0]!;
  return { decision, vote_id };
}
