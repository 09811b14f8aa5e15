import { type IIIClient, TriggerAction } from 'iii-sdk';
import { createChannel } from 'iii-sdk/helpers';
import type { z } from 'zod';
import { fromInvocationError, HarnessError } from './errors.js';
import { formatZodIssues } from './handler.js';
import { EngineState } from './state.js';
import { EngineStreams } from './streams.js';

export interface CallOptions {
  /** Overrides the worker's default invocation timeout. */
  timeoutMs?: number;
  metadata?: Record<string, unknown>;
}

/** Config of a named queue, as `queue::define` takes it. */
export interface QueueConfig {
  type?: 'standard' | 'fifo';
  message_group_field?: string;
  max_retries?: number;
  concurrency?: number;
  backoff_ms?: number;
}

export type Channel = Awaited<ReturnType<typeof createChannel>>;

/**
 * Typed access to the bus for one worker. Every failure comes back as a HarnessError with a
 * stable code, whichever engine or worker produced it.
 */
export class Bus {
  readonly state: EngineState;
  readonly stream: EngineStreams;

  constructor(readonly client: IIIClient) {
    this.state = new EngineState(this);
    this.stream = new EngineStreams(this);
  }

  /** Invoke a function and wait for its result; with `schema`, the result is validated too. */
  async call<T = unknown>(
    functionId: string,
    payload: unknown = {},
    options: CallOptions & { schema?: z.ZodType<T> } = {},
  ): Promise<T> {
    let result: unknown;
    try {
      // A missing `data` field makes the engine drop the frame, so never send `undefined`.
      result = await this.client.trigger({
        function_id: functionId,
        payload: payload ?? {},
        timeoutMs: options.timeoutMs,
        metadata: options.metadata,
      });
    } catch (error) {
      throw fromInvocationError(error, functionId);
    }
    if (!options.schema) return result as T;
    const parsed = options.schema.safeParse(result);
    if (!parsed.success)
      throw new HarnessError(
        'internal',
        `${functionId} returned an unexpected result: ${formatZodIssues(parsed.error)}`,
      );
    return parsed.data;
  }

  /** Fire and forget: no result, no error. */
  callVoid(functionId: string, payload: unknown = {}): void {
    void this.client.trigger({ function_id: functionId, payload: payload ?? {}, action: TriggerAction.Void() });
  }

  /** Put a job on a named queue; resolves once the queue has durably accepted it. */
  async enqueue(queue: string, functionId: string, payload: unknown = {}): Promise<{ messageReceiptId: string }> {
    try {
      return (await this.client.trigger({
        function_id: functionId,
        payload: payload ?? {},
        action: TriggerAction.Enqueue({ queue }),
      })) as { messageReceiptId: string };
    } catch (error) {
      throw fromInvocationError(error, functionId);
    }
  }

  /** Declare a queue this worker needs (idempotent). */
  defineQueue(queue: string, config: QueueConfig): Promise<{ queue: string; changed: boolean }> {
    return this.call('queue::define', { queue, config });
  }

  publish(topic: string, data: unknown): Promise<void> {
    return this.call('publish', { topic, data });
  }

  /** A data channel: keep the reader (or writer) and hand the other ref to another worker. */
  async createChannel(bufferSize?: number): Promise<Channel> {
    try {
      return await createChannel(this.client, bufferSize);
    } catch (error) {
      throw fromInvocationError(error, 'engine::channels::create');
    }
  }
}
