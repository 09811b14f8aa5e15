import { defineFunction } from '@iii-harness/runtime';
import { isTerminalTurnState, sessionId } from '@iii-harness/types';
import { z } from 'zod';
import { streamRequestId } from './record.js';
import { type Deps, enqueueStep } from './turn.js';

/**
 * Stop a live turn: flag it (the next step boundary ends it), cut the provider stream so the
 * vendor stops, and wake a parked turn so its held calls are resolved as aborted.
 */
export const runAbort = (deps: Deps) =>
  defineFunction({
    id: 'run::abort',
    description:
      'Abort the live turn of a session: stops the provider stream, keeps the partial message, resolves held calls as aborted',
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ aborted: z.boolean(), turn_id: z.string().optional() }),
    async handler({ session_id }, { bus, logger }) {
      const record = await deps.store.get(session_id);
      if (!record || isTerminalTurnState(record.state)) return { aborted: false };
      await deps.store.requestAbort(session_id, record.turn_id);
      if (record.state === 'assistant_streaming') {
        await bus
          .call(`provider::${record.provider}::abort`, { request_id: streamRequestId(record) }, { timeoutMs: 2_000 })
          .catch((error: unknown) => {
            logger.warn({ err: (error as Error).message }, 'could not abort the provider stream');
          });
      }
      if (record.state === 'function_awaiting_approval') await enqueueStep(bus, record, true);
      return { aborted: true, turn_id: record.turn_id };
    },
  });
