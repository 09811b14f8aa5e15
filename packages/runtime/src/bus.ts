import {
  type Contract,
  type ContractInput,
  type ContractOutput,
  contracts,
  type QueueConfig,
} from '@iii-harness/types';
import { type IIIClient, TriggerAction } from 'iii-sdk';
import { createChannel } from 'iii-sdk/helpers';
import { formatZodIssues, fromInvocationError, HarnessError } from './errors.js';
import { EngineState } from './state.js';
import { EngineStreams } from './streams.js';

export interface CallOptions {
  /** Overrides the worker's default invocation timeout. */
  timeoutMs?: number;
  metadata?: Record<string, unknown>;
}

export type { QueueConfig };
export type Channel = Awaited<ReturnType<typeof createChannel>>;

/**
 * Typed access to the bus for one worker. Calls go through contracts (`types`), so the reply is
 * checked against the function's output schema; every failure comes back as a HarnessError with
 * a stable code, whichever engine or worker produced it.
 */
export class Bus {
  readonly state: EngineState;
  readonly stream: EngineStreams;

  constructor(readonly client: IIIClient) {
    this.state = new EngineState(this);
    this.stream = new EngineStreams(this);
  }

  /**
   * Call a function through its contract and wait for the reply, validated: a reply that does not
   * match the contract's output schema is an `internal` error naming the function, never trusted.
   */
  async call<C extends Contract>(
    contract: C,
    payload: ContractInput<C>,
    options: CallOptions = {},
  ): Promise<ContractOutput<C>> {
    return this.checkReply(contract, await this.invoke(contract.id, payload, options));
  }

  private checkReply<C extends Contract>(contract: C, result: unknown): ContractOutput<C> {
    const parsed = contract.output.safeParse(result);
    if (!parsed.success)
      throw new HarnessError(
        'internal',
        `${contract.id} returned a reply that breaks its contract: ${formatZodIssues(parsed.error)}`,
        { reason: 'contract_violation' },
      );
    return parsed.data as ContractOutput<C>;
  }

  /**
   * Call a function known only at run time (an agent's function call, a test poking at the wire):
   * no contract, so the reply is whatever came back. Everything else calls through `call`.
   */
  async invoke(functionId: string, payload: unknown = {}, options: CallOptions = {}): Promise<unknown> {
    try {
      // A missing `data` field makes the engine drop the frame, so never send `undefined`.
      return await this.client.trigger({
        function_id: functionId,
        payload: payload ?? {},
        timeoutMs: options.timeoutMs,
        metadata: options.metadata,
      });
    } catch (error) {
      throw fromInvocationError(error, functionId);
    }
  }

  /** Fire and forget: no result, no error. */
  callVoid<C extends Contract>(contract: C, payload: ContractInput<C>): void {
    void this.client.trigger({ function_id: contract.id, payload: payload ?? {}, action: TriggerAction.Void() });
  }

  /** Put a job on a named queue; resolves once the queue has durably accepted it. */
  async enqueue<C extends Contract>(
    queue: string,
    contract: C,
    payload: ContractInput<C>,
  ): Promise<{ messageReceiptId: string }> {
    try {
      return (await this.client.trigger({
        function_id: contract.id,
        payload: payload ?? {},
        action: TriggerAction.Enqueue({ queue }),
      })) as { messageReceiptId: string };
    } catch (error) {
      throw fromInvocationError(error, contract.id);
    }
  }

  /** Declare a queue this worker needs (idempotent). */
  defineQueue(queue: string, config: QueueConfig): Promise<{ queue: string; changed: boolean }> {
    return this.call(contracts.engine.queueDefine, { queue, config });
  }

  async publish(topic: string, data: unknown): Promise<void> {
    await this.call(contracts.engine.publish, { topic, data });
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
