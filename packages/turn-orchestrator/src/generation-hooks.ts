import { contracts, type Message, type ReserveResult } from '@iii-harness/types';
import { type Reservation, reserveCall, settleCall } from './budget.js';
import { preflight, roughTokens } from './compaction.js';
import { type Generation, generate } from './generation.js';
import type { TurnRun } from './turn.js';

/**
 * One model call with its seams (ARCHITECTURE §6): read the context; before the call, compact it
 * when it would not fit (context-compaction, compaction.ts) and reserve the call's worst case
 * (llm-budget, budget.ts: a refusal ends the turn before any spend); after it, settle the
 * reservation with what the provider reported. Both workers are optional. The whole runs inside
 * `assistant_streaming`, so a redelivered generation passes through it again: planning and
 * compacting are idempotent (the worker compacts only what still does not fit), and each delivery
 * reserves under its own id.
 */

export type ModelCall =
  | { status: 'called'; generation: Generation; cost_micro_usd: number }
  | { status: 'refused'; refusal: Extract<ReserveResult, { status: 'exceeded' }> };

export interface ModelCallOptions {
  /** Plan (and compact if needed) first: not for the retry right after an overflow compaction. */
  preflight: boolean;
  /** Tells this call's reservation from the step's first one (the retry after an overflow). */
  attempt?: string;
}

export async function modelCall(run: TurnRun, options: ModelCallOptions): Promise<ModelCall> {
  const maxTokens = run.record.max_output_tokens;
  let messages = await readContext(run);
  let projected: number | undefined;
  if (options.preflight) {
    const planned = await preflight(run, messages, maxTokens);
    if (planned.compacted) messages = await readContext(run);
    projected = planned.projected;
  }
  const reserved = await reserveCall(run, Math.max(projected ?? 0, roughTokens(run, messages)), options.attempt);
  if (reserved.status === 'exceeded') return { status: 'refused', refusal: reserved.refusal };
  const reservation: Reservation | undefined = reserved.status === 'reserved' ? reserved.reservation : undefined;
  let generation: Generation;
  try {
    generation = await generate(run, messages, reservation?.max_tokens);
  } catch (error) {
    // The call's outcome is unknown (the provider went away mid-stream): it is paid for.
    await settleCall(run, reservation, undefined);
    throw error;
  }
  return { status: 'called', generation, cost_micro_usd: await settleCall(run, reservation, generation) };
}

/** The messages the model sees. A session that does not exist yet is created here (lazily). */
async function readContext(run: TurnRun): Promise<Message[]> {
  const context = await run.patient(contracts.session.messages.id, () => run.transcript.context());
  return context.map((m) => m.message);
}
