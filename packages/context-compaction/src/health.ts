import type { Bus } from '@iii-harness/runtime';
import {
  type CompactionResult,
  type CompactionStatus,
  compactionStage,
  compactionStatus,
  entryId,
} from '@iii-harness/types';
import { z } from 'zod';
import { summarySections } from './details.js';

/**
 * A session's compaction health in engine state (key `health:<session_id>`): the failure count
 * behind the circuit breaker, the last outcome, the leaf where compaction last did not help (so
 * it is not retried until the session changes) and a summary paid for but not appended yet.
 * Written only by the lease holder.
 */

const pendingSummary = z.object({
  /** The first message of the window whose summary it continues. */
  window_start: entryId.nullable(),
  through_entry_id: entryId,
  sections: summarySections,
  at: z.number().int(),
});

export const healthRecord = z.object({
  consecutive_failures: z.number().int().nonnegative().default(0),
  breaker_open: z.boolean().default(false),
  compactions: z.number().int().nonnegative().default(0),
  last_result: z
    .object({
      at: z.number().int(),
      status: compactionStatus,
      stage: compactionStage.optional(),
      tokens_before: z.number().int().nonnegative(),
      tokens_after: z.number().int().nonnegative(),
      compaction_entry_id: entryId.nullable(),
    })
    .nullable()
    .default(null),
  last_failure: z
    .object({ at: z.number().int(), status: compactionStatus, message: z.string() })
    .nullable()
    .default(null),
  no_progress_leaf: z.string().nullable().default(null),
  pending: pendingSummary.nullable().default(null),
});
export type Health = z.output<typeof healthRecord>;

export const healthKey = (sessionId: string) => `health:${sessionId}`;

/** Outcomes that count towards the breaker: compaction ran and the request still does not fit. */
const FAILURES: ReadonlySet<CompactionStatus> = new Set(['did_not_help', 'insufficient', 'failed']);

export class HealthStore {
  constructor(
    private readonly bus: Bus,
    private readonly scope: string,
    private readonly breakerThreshold: number,
  ) {}

  async read(sessionId: string): Promise<Health> {
    const raw = await this.bus.state.get(this.scope, healthKey(sessionId));
    const parsed = healthRecord.safeParse(raw ?? {});
    // A record this version cannot read is treated as fresh rather than blocking compaction.
    return parsed.success ? parsed.data : healthRecord.parse({});
  }

  async write(sessionId: string, health: Health): Promise<void> {
    await this.bus.state.set(this.scope, healthKey(sessionId), health);
  }

  /** The record after an outcome; `leaf` is where it happened. */
  apply(health: Health, result: CompactionResult, leaf: string | null, counts: boolean): Health {
    const at = Date.now();
    const next: Health = {
      ...health,
      last_result: {
        at,
        status: result.status,
        ...(result.stage ? { stage: result.stage } : {}),
        tokens_before: result.tokens_before,
        tokens_after: result.tokens_after,
        compaction_entry_id: result.compaction_entry_id,
      },
    };
    if (result.status === 'compacted' || result.status === 'insufficient') {
      next.compactions = health.compactions + 1;
      if (result.stage === 'summary') next.pending = null;
    }
    if (result.status === 'compacted') {
      next.consecutive_failures = 0;
      next.breaker_open = false;
      next.no_progress_leaf = null;
    }
    if (counts && FAILURES.has(result.status)) {
      next.consecutive_failures = health.consecutive_failures + 1;
      next.breaker_open = next.consecutive_failures >= this.breakerThreshold;
      next.last_failure = { at, status: result.status, message: result.message };
    }
    if (result.status === 'did_not_help') next.no_progress_leaf = leaf;
    return next;
  }
}
