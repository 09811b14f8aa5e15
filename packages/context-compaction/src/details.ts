import { compactionStage, entryId } from '@iii-harness/types';
import { z } from 'zod';

/**
 * What this worker keeps in a compaction entry's `details` (the session worker stores it and
 * never reads it). The next compaction starts from it: the structured summary it updates in
 * place and the fact ledger it carries forward verbatim.
 */

export const SECTION_KEYS = [
  'goal',
  'constraints',
  'done',
  'in_progress',
  'decisions',
  'next_steps',
  'critical_context',
  'notes',
] as const;
export type SectionKey = (typeof SECTION_KEYS)[number];

export const summarySections = z.object(
  Object.fromEntries(SECTION_KEYS.map((key) => [key, z.string().default('')])) as Record<
    SectionKey,
    z.ZodDefault<z.ZodString>
  >,
);
export type SummarySections = z.output<typeof summarySections>;

export const factKind = z.enum(['file_read', 'file_written', 'file', 'function', 'url', 'id', 'value']);
export type FactKind = z.infer<typeof factKind>;
export type Fact = [FactKind, string];

/** Facts oldest first; `dropped` counts facts evicted to keep the ledger inside its bounds. */
export const ledger = z.object({
  facts: z.array(z.tuple([factKind, z.string()])),
  dropped: z.number().int().nonnegative().default(0),
});
export type Ledger = z.output<typeof ledger>;
export const emptyLedger = (): Ledger => ({ facts: [], dropped: 0 });

export const compactionDetails = z.object({
  format: z.literal(1),
  stage: compactionStage,
  /** null while only results were capped or pruned (no summary yet). */
  sections: summarySections.nullable(),
  ledger,
  tokens_after: z.number().int().nonnegative(),
  /**
   * The last message the model saw when this compaction was computed: provider usage reported
   * after it measures the compacted context; usage before it does not.
   */
  last_message_id: entryId.nullable(),
  /** This session's compactions so far, this one included. */
  sequence: z.number().int().positive(),
});
export type CompactionDetails = z.output<typeof compactionDetails>;
