import type { Bus } from '@iii-harness/runtime';
import { approvalDecision, jsonObject } from '@iii-harness/types';
import { z } from 'zod';
import { approvalMode, type Config } from './config.js';

export const hold = z.object({
  session_id: z.string(),
  turn_id: z.string(),
  function_call_id: z.string(),
  function_id: z.string(),
  args: jsonObject,
  requested_at: z.number().int(),
});
export type Hold = z.infer<typeof hold>;

export const decisionRecord = z.object({
  decision: approvalDecision,
  reason: z.string().optional(),
  decided_at: z.number().int(),
});
export type DecisionRecord = z.infer<typeof decisionRecord>;

export const settings = z.object({
  session_id: z.string(),
  mode: approvalMode,
  always_allow: z.array(z.string()),
  updated_at: z.number().int(),
});
export type Settings = z.infer<typeof settings>;

const SCOPES = { pending: 'approval_pending', decisions: 'approval_decisions', settings: 'approval_settings' } as const;

/** `<session>/<call>`: ids may not contain `/`, so the key is unambiguous. */
export const holdKey = (sessionId: string, callId: string) => `${sessionId}/${callId}`;

/** Holds, decisions and settings in engine state, so every process can restart without losing one. */
export class ApprovalStore {
  constructor(
    private readonly bus: Bus,
    private readonly config: Config,
  ) {}

  /** Create a hold; an existing hold for the same call is kept as it is (redelivered steps). */
  async putHold(value: Hold): Promise<{ hold: Hold; created: boolean }> {
    const key = holdKey(value.session_id, value.function_call_id);
    const existing = await this.bus.state.get(SCOPES.pending, key, hold);
    if (existing) return { hold: existing, created: false };
    await this.bus.state.set(SCOPES.pending, key, value);
    return { hold: value, created: true };
  }

  getHold(sessionId: string, callId: string): Promise<Hold | undefined> {
    return this.bus.state.get(SCOPES.pending, holdKey(sessionId, callId), hold);
  }

  /** Remove the hold; the caller that gets it back is the one that resolves it. */
  async takeHold(sessionId: string, callId: string): Promise<Hold | undefined> {
    const old = await this.bus.state.delete(SCOPES.pending, holdKey(sessionId, callId));
    const parsed = hold.safeParse(old);
    return parsed.success ? parsed.data : undefined;
  }

  async listHolds(sessionId?: string): Promise<Hold[]> {
    const all = await this.bus.state.list(SCOPES.pending, hold);
    return all
      .filter((h) => !sessionId || h.session_id === sessionId)
      .sort((a, b) => a.requested_at - b.requested_at || a.function_call_id.localeCompare(b.function_call_id));
  }

  getDecision(sessionId: string, callId: string): Promise<DecisionRecord | undefined> {
    return this.bus.state.get(SCOPES.decisions, holdKey(sessionId, callId), decisionRecord);
  }

  async putDecision(sessionId: string, callId: string, value: DecisionRecord): Promise<void> {
    await this.bus.state.set(SCOPES.decisions, holdKey(sessionId, callId), value);
  }

  async getSettings(sessionId: string): Promise<Settings> {
    return (
      (await this.bus.state.get(SCOPES.settings, sessionId, settings)) ?? {
        session_id: sessionId,
        mode: this.config.default_mode,
        always_allow: [],
        updated_at: 0,
      }
    );
  }

  async putSettings(value: Settings): Promise<Settings> {
    const next = { ...value, always_allow: [...new Set(value.always_allow)].sort(), updated_at: Date.now() };
    await this.bus.state.set(SCOPES.settings, value.session_id, next);
    return next;
  }

  async clearSettings(sessionId: string): Promise<void> {
    await this.bus.state.delete(SCOPES.settings, sessionId);
  }
}
