import { contracts, TURN_STEP_QUEUE } from '@iii-harness/types';
import { recoverTurns } from '../src/recovery.js';
import type { Deps } from '../src/turn.js';

describe('the turn-step queue', () => {
  it('holds a session up by at most 3.2 s between attempts, and 6.4 s in all, before a step is dead-lettered', () => {
    // The engine waits backoff_ms · 2^(attempts−1) after each failed attempt, also when the attempt
    // failed only because the orchestrator died; the step's session waits behind it.
    const { max_retries, backoff_ms } = TURN_STEP_QUEUE.config;
    const waits = Array.from({ length: max_retries - 1 }, (_, i) => backoff_ms * 2 ** i);
    expect(Math.max(...waits)).toBeLessThanOrEqual(3_200);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6_400);
  });
});

describe('recoverTurns', () => {
  const live = { session_id: 's1', turn_id: 't1', step: 2, state: 'assistant_streaming', updated_at: 0 };
  const parked = { session_id: 's2', turn_id: 't2', step: 5, state: 'function_awaiting_approval', updated_at: 0 };
  const over = { session_id: 's3', turn_id: 't3', step: 9, state: 'stopped', updated_at: 0 };

  function fakeDeps(redrive: () => Promise<unknown>) {
    const log: string[] = [];
    const deps = {
      config: { stalled_after_ms: 60_000 },
      logger: { info: () => {}, warn: (_: unknown, msg: string) => log.push(`warn ${msg}`) },
      store: { list: async () => [live, parked, over].map((record) => ({ record })) },
      bus: {
        call: async (contract: { id: string }, input: unknown) => {
          log.push(`call ${contract.id} ${JSON.stringify(input)}`);
          return redrive();
        },
        enqueue: async (queue: string, contract: { id: string }, job: unknown) => {
          log.push(`enqueue ${queue} ${contract.id} ${JSON.stringify(job)}`);
          return { messageReceiptId: 'r' };
        },
      },
    } as unknown as Deps;
    return { deps, log };
  }

  it('redrives the dead-lettered steps, then kicks every live turn and wakes every parked one', async () => {
    const { deps, log } = fakeDeps(async () => ({ queue: 'turn-step', redriven: 1 }));
    expect(await recoverTurns(deps, true)).toBe(2);
    expect(log).toEqual([
      `call ${contracts.engine.queueRedrive.id} {"queue":"turn-step"}`,
      'enqueue turn-step turn::assistant_streaming {"session_id":"s1","turn_id":"t1","step":2}',
      'enqueue turn-step turn::function_awaiting_approval {"session_id":"s2","turn_id":"t2","wake":true}',
    ]);
  });

  it('still kicks the live turns when the redrive fails', async () => {
    const { deps, log } = fakeDeps(async () => {
      throw new Error('no queue worker');
    });
    expect(await recoverTurns(deps, false)).toBe(2);
    expect(log.filter((l) => l.startsWith('enqueue'))).toHaveLength(2);
    expect(log).toContain('warn redriving dead-lettered turn steps failed');
  });
});
