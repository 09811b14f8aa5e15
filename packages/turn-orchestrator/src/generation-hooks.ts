import type { Message } from '@iii-harness/types';
import type { Generation } from './generation.js';
import type { TurnRun } from './turn.js';

/**
 * The seams around each model call, where the context-compaction and llm-budget workers plug in
 * (ARCHITECTURE §6): before the call, `compaction::plan` / `compaction::compact_now` when the
 * projected tokens exceed the model's usable window (then the context is read again), and
 * `budget::reserve` (a denied reservation ends the turn with `budget_exceeded` before any spend);
 * after it, `budget::commit` with the usage, or `budget::release` when no message came. Both run
 * inside `assistant_streaming`, after the context is read and before the provider is called, so
 * a redelivered generation passes them again (their calls must be idempotent per
 * `streamRequestId`). Today they pass the context through unchanged.
 */
export async function beforeGeneration(_run: TurnRun, context: Message[]): Promise<{ messages: Message[] }> {
  return { messages: context };
}

export async function afterGeneration(_run: TurnRun, _generation: Generation | undefined): Promise<void> {}
