import { claimScheduledRun, type Handler, HarnessError } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import type { Config } from './config.js';
import { type Deps, resolveHold } from './resolution.js';

export const resolve = (deps: Deps) =>
  (async ({ session_id, function_call_id, decision, reason, always }, ctx) => {
    const { store } = deps;
    const pending = await store.getHold(session_id, function_call_id);
    if (!pending) {
      const earlier = await store.getDecision(session_id, function_call_id);
      if (earlier) return { decision: earlier.decision, already_resolved: true };
      throw new HarnessError('not_found', `no pending approval ${function_call_id} in session ${session_id}`);
    }
    if (always && decision === 'allow') {
      const current = await store.getSettings(session_id);
      await store.putSettings({ ...current, always_allow: [...current.always_allow, pending.function_id] });
    }
    const { record, mine } = await resolveHold(deps, ctx, pending, decision, reason);
    return { decision: record.decision, already_resolved: !mine };
  }) satisfies Handler<typeof contracts.approval.resolve>;

/** `cancelled: false` means there was no hold to cancel (never held, or already decided). */
export const cancel = (deps: Deps) =>
  (async ({ session_id, function_call_id, reason }, ctx) => {
    const pending = await deps.store.getHold(session_id, function_call_id);
    if (!pending) return { cancelled: false };
    const { mine } = await resolveHold(deps, ctx, pending, 'aborted', reason ?? 'turn aborted');
    return { cancelled: mine };
  }) satisfies Handler<typeof contracts.approval.cancel>;

export const sweep = (deps: Deps, config: Config) =>
  (async (input, ctx) => {
    // Every copy of this worker (one per engine) registers the cron: one of them runs each tick.
    if (!(await claimScheduledRun(ctx.bus, contracts.approval.sweep.id, input))) return { expired: 0, skipped: true };
    const cutoff = Date.now() - config.pending_timeout_ms;
    const reason = `approval timed out after ${config.pending_timeout_ms} ms`;
    let expired = 0;
    for (const pending of (await deps.store.listHolds()).filter((h) => h.requested_at <= cutoff))
      if ((await resolveHold(deps, ctx, pending, 'deny', reason)).mine) expired++;
    if (expired) ctx.logger.info({ expired }, 'expired approval holds denied');
    return { expired };
  }) satisfies Handler<typeof contracts.approval.sweep>;
