import { defineFunction } from '@iii-harness/runtime';
import { isTerminalTurnState } from '@iii-harness/types';
import { z } from 'zod';
import { isWorking } from './record.js';
import { type Deps, enqueueStep } from './turn.js';

/**
 * Re-enqueue the step of every live turn that may have lost its job (a crash between saving a
 * transition and enqueueing it), and wake every parked turn (a decision may have landed while
 * nobody listened). Duplicates are harmless: the stale-step guard acks them. At start-up every
 * live turn is kicked; afterwards only those untouched for `stalled_after_ms`.
 */
export async function recoverTurns(deps: Deps, onlyStalled: boolean): Promise<number> {
  const cutoff = Date.now() - deps.config.stalled_after_ms;
  let kicked = 0;
  for (const record of await deps.store.list()) {
    if (isTerminalTurnState(record.state)) continue;
    if (onlyStalled && record.updated_at > cutoff) continue;
    await enqueueStep(deps.bus, record, !isWorking(record.state));
    kicked++;
  }
  if (kicked) deps.logger.info({ kicked, only_stalled: onlyStalled }, 'recovered live turns');
  return kicked;
}

export const recover = (deps: Deps) =>
  defineFunction({
    id: 'turn::recover',
    description: 'Re-enqueue steps of stalled turns and wake parked ones (cron)',
    metadata: { internal: true },
    input: z.object({}).passthrough(),
    output: z.object({ kicked: z.number().int() }),
    handler: async () => ({ kicked: await recoverTurns(deps, true) }),
  });
