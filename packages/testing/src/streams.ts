import { randomUUID } from 'node:crypto';
import type { IIIClient } from 'iii-sdk';
import { eventually } from './eventually.js';

export interface StreamEvent<T = unknown> {
  type: 'stream';
  streamName: string;
  groupId: string;
  id?: string;
  timestamp?: number;
  event: { type: 'create' | 'update' | 'delete' | 'event'; data?: T; event?: { type: string; data: T } };
}

export interface StreamCollector<T = unknown> {
  events: StreamEvent<T>[];
  /** The payloads of create/update/event items, in arrival order. */
  data(): T[];
  /** Resolves once `count` events have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<StreamEvent<T>[]>;
  stop(): void;
}

/** Subscribe `client` to a stream (optionally one group) through a `stream` trigger and keep what arrives. */
export function collectStream<T = unknown>(
  client: IIIClient,
  streamName: string,
  groupId?: string,
): StreamCollector<T> {
  const events: StreamEvent<T>[] = [];
  const functionId = `test::collect::${randomUUID()}`;
  const fn = client.registerFunction(functionId, async (event: StreamEvent<T>) => {
    events.push(event);
    return {};
  });
  const trigger = client.registerTrigger({
    type: 'stream',
    function_id: functionId,
    config: { stream_name: streamName, ...(groupId ? { group_id: groupId } : {}) },
  });
  return {
    events,
    data: () => events.map((e) => (e.event.type === 'event' ? e.event.event?.data : e.event.data) as T),
    async waitFor(count, timeoutMs = 5_000) {
      await eventually(
        () => {
          if (events.length < count) throw new Error(`expected ${count} events on ${streamName}, got ${events.length}`);
        },
        { timeoutMs },
      );
      return events;
    },
    stop() {
      trigger.unregister();
      fn.unregister();
    },
  };
}
