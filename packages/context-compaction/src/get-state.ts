import type { Bus, Handler } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import type { HealthStore } from './health.js';
import { isHeld, type Leases } from './lease.js';

/** What an operator (or the console) sees of a session's compaction; not_found for an unknown session. */
export const getState = (deps: { leases: Leases; health: HealthStore }) =>
  (async ({ session_id }, ctx) => {
    const latest = await latestCompaction(ctx.bus, session_id);
    const [lease, health] = await Promise.all([deps.leases.read(session_id), deps.health.read(session_id)]);
    const held = isHeld(lease, Date.now());
    return {
      session_id,
      lease: held
        ? { held, ...(lease.holder ? { holder: lease.holder } : {}), expires_at: lease.expires_at }
        : { held },
      consecutive_failures: health.consecutive_failures,
      breaker_open: health.breaker_open,
      compactions: health.compactions,
      latest_compaction_entry_id: latest,
      last_result: health.last_result,
      last_failure: health.last_failure,
      pending_summary: health.pending
        ? { through_entry_id: health.pending.through_entry_id, at: health.pending.at }
        : null,
    };
  }) satisfies Handler<typeof contracts.compaction.getState>;

async function latestCompaction(bus: Bus, sessionId: string): Promise<string | null> {
  return (await bus.call(contracts.session.messages, { session_id: sessionId })).compaction_entry_id;
}
