import { type Bus, versionedRecord } from '@iii-harness/runtime';
import {
  type ApprovalDecisionRecord,
  type ApprovalHold,
  type ApprovalSettings,
  approvalDecisionRecord,
  approvalHold,
  approvalSettings,
} from '@iii-harness/types';
import type { Config } from './config.js';

/**
 * The stored records, versioned. Version 0 is what was written before records carried `v`: the
 * same fields as version 1, so its migration only stamps the version.
 */
const stampOnly = (record: Record<string, unknown>) => record;
export const holdRecord = versionedRecord({
  what: 'approval hold',
  current: 1,
  unversioned: 0,
  schema: approvalHold,
  migrations: { 0: stampOnly },
});
export const decisionRecord = versionedRecord({
  what: 'approval decision',
  current: 1,
  unversioned: 0,
  schema: approvalDecisionRecord,
  migrations: { 0: stampOnly },
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
  async putHold(value: ApprovalHold): Promise<{ hold: ApprovalHold; created: boolean }> {
    const existing = await this.getHold(value.session_id, value.function_call_id);
    if (existing) return { hold: existing, created: false };
    await this.bus.state.set(
      SCOPES.pending,
      holdKey(value.session_id, value.function_call_id),
      holdRecord.stamp(value),
    );
    return { hold: value, created: true };
  }

  async getHold(sessionId: string, callId: string): Promise<ApprovalHold | undefined> {
    const key = holdKey(sessionId, callId);
    const value = await this.bus.state.get(SCOPES.pending, key);
    return value === undefined ? undefined : holdRecord.read(value, `${SCOPES.pending}/${key}`);
  }

  /** Remove the hold; the caller that gets it back is the one that resolves it. */
  async takeHold(sessionId: string, callId: string): Promise<ApprovalHold | undefined> {
    const key = holdKey(sessionId, callId);
    const old = await this.bus.state.delete(SCOPES.pending, key);
    return old == null ? undefined : holdRecord.read(old, `${SCOPES.pending}/${key}`);
  }

  async listHolds(sessionId?: string): Promise<ApprovalHold[]> {
    const all = (await this.bus.state.list(SCOPES.pending)).map((value) => holdRecord.read(value, SCOPES.pending));
    return all
      .filter((h) => !sessionId || h.session_id === sessionId)
      .sort((a, b) => a.requested_at - b.requested_at || a.function_call_id.localeCompare(b.function_call_id));
  }

  async getDecision(sessionId: string, callId: string): Promise<ApprovalDecisionRecord | undefined> {
    const key = holdKey(sessionId, callId);
    const value = await this.bus.state.get(SCOPES.decisions, key);
    return value === undefined ? undefined : decisionRecord.read(value, `${SCOPES.decisions}/${key}`);
  }

  async putDecision(sessionId: string, callId: string, value: ApprovalDecisionRecord): Promise<void> {
    await this.bus.state.set(SCOPES.decisions, holdKey(sessionId, callId), decisionRecord.stamp(value));
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
