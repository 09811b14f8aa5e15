import { AGENT_EVENT_SEQ, AGENT_EVENTS_STREAM, type AgentEvent } from '@iii-harness/types';
import type { Bus } from './bus.js';
import { HarnessError } from './errors.js';
import { redact } from './secrets.js';

/** An agent event as its emitter writes it; the envelope fields are filled in here. */
export type AgentEventInput = AgentEvent extends infer E
  ? E extends AgentEvent
    ? Omit<E, 'seq' | 'timestamp' | 'session_id' | 'turn_id'>
    : never
  : never;

/**
 * Writes items of stream `agent::events` (group = session id). Each item gets the next number of
 * the session's sequence from an atomic engine counter (`AGENT_EVENT_SEQ`: a field of the turn
 * record, where the orchestrator reserves its own numbers with each save), so emitters in
 * different workers interleave in one strictly increasing order. The item id is the zero-padded
 * sequence number, so ids sort in emission order too. UIs show these items, so secrets are masked
 * on the way in, by key name and by value.
 */
export class AgentEvents {
  constructor(private readonly bus: Bus) {}

  async emit(sessionId: string, turnId: string, event: AgentEventInput): Promise<AgentEvent> {
    const { new_value, errors } = await this.bus.state.update<Record<string, unknown>>(
      AGENT_EVENT_SEQ.scope,
      sessionId,
      [{ type: 'increment', path: AGENT_EVENT_SEQ.field, by: 1 }],
    );
    const seq = new_value?.[AGENT_EVENT_SEQ.field];
    if (errors?.length || typeof seq !== 'number')
      throw new HarnessError(
        'internal',
        `the event sequence of session ${sessionId} could not be advanced: ${errors?.[0]?.message ?? `seq is ${JSON.stringify(seq)}`}`,
        { reason: 'event_sequence' },
      );
    const item = redact({
      ...event,
      session_id: sessionId,
      turn_id: turnId,
      seq,
      timestamp: Date.now(),
    }) as AgentEvent;
    await this.bus.stream.set(AGENT_EVENTS_STREAM, sessionId, String(seq).padStart(12, '0'), item);
    return item;
  }
}
