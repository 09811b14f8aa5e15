/**
 * Jobs and dead letters in RabbitMQ (iii's `rabbitmq` queue adapter): several engines on one
 * broker compete for the same queues, each delivery going to one engine.
 *
 * - enqueue/publish: persistent messages with publisher confirms; resolved once RabbitMQ has them.
 * - Each engine consumes every open lane with a prefetch of the lane's `concurrency`; the
 *   dispatcher schedules what it received exactly as for SQLite. So a FIFO queue keeps one job per
 *   group in flight *on each engine*, as iii's queue worker does (its consumer takes `concurrency`
 *   deliveries and orders them by group in-process): two engines can run two jobs of one group at
 *   once. Workers that need a group serialized across engines must do it themselves.
 * - A failed job is held (unacknowledged) through its backoff and retried here; its attempt
 *   count lives in this engine, so a crash during backoff redelivers it with the count it was
 *   published with. Exhausted: published to the dead-letter queue with the error, then acked.
 * - Losing the connection drops every job not running (the broker redelivers them, here after
 *   the reconnect or elsewhere); running jobs finish, their outcome changes nothing.
 *
 * Message headers: `function_id`, `x-attempt` (failed deliveries so far), `x-iii-group`,
 * `x-iii-enqueued-at`, `traceparent`, `baggage`; dead letters add `x-iii-error`, `x-iii-failed-at`.
 */
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  connect,
  type GetMessage,
} from 'amqplib';
import type { Logger } from 'pino';
import { EngineError } from '../engine-api.js';
import {
  type Headers,
  jobHeaders,
  laneMetaOf,
  messageCount,
  redact,
  toDeadLetter,
  withTimeout,
} from './amqp-messages.js';
import {
  declareNamedQueue,
  declareSubscriber,
  declareTopic,
  type LaneQueues,
  laneQueues,
  namedQueue,
  topicExchange,
} from './amqp-topology.js';
import type { LaneMeta, LaneSettings } from './lane.js';
import type { StoredDeadLetter } from './store.js';
import type { JobSink, QueueTransport } from './transport.js';
import type { Job, NewJob } from './types.js';

const CONNECT_TIMEOUT_MS = 10_000;
const RECONNECT_DELAY_MS = 1_000;

interface OpenLane {
  meta: LaneMeta;
  settings: LaneSettings;
  consumerTag?: string;
}

interface Link {
  connection: ChannelModel;
  publisher: ConfirmChannel;
  consumer: Channel;
  generation: number;
}

/** A message taken from a queue with basic.get or basic.consume: what acks and dead letters need. */
type Taken = ConsumeMessage | GetMessage;

export class AmqpTransport implements QueueTransport {
  readonly brokerType = 'rabbitmq';
  #sink: JobSink = () => undefined;
  #link: Link | undefined;
  #generation = 0;
  #closing = false;
  #seq = 0;
  /** Lanes this engine consumes, by lane key (consumed again after a reconnect). */
  readonly #lanes = new Map<string, OpenLane>();
  readonly #deliveries = new WeakMap<Job, { message: ConsumeMessage; generation: number }>();
  readonly #declaredTopics = new Set<string>();
  /** Consumer (re)starts one at a time: a prefetch applies to the next consumer of the channel. */
  #serial: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly url: string,
    private readonly logger: Logger,
    /** Called when the broker connection is lost (the dispatcher drops what it was handed). */
    private readonly onLost: () => void,
  ) {}

  static async connect(url: string, logger: Logger, onLost: () => void): Promise<AmqpTransport> {
    const transport = new AmqpTransport(url, logger, onLost);
    transport.#link = await transport.#open();
    return transport;
  }

  start(sink: JobSink): void {
    this.#sink = sink;
  }

  openLane(key: string, meta: LaneMeta, settings: LaneSettings): Promise<void> {
    const lane = this.#lanes.get(key) ?? { meta, settings };
    lane.meta = meta;
    lane.settings = settings;
    this.#lanes.set(key, lane);
    return this.#inOrder(() => this.#consume(key, lane));
  }

  async closeLane(key: string): Promise<void> {
    const lane = this.#lanes.get(key);
    this.#lanes.delete(key);
    if (lane?.consumerTag && this.#link) await this.#link.consumer.cancel(lane.consumerTag).catch(() => undefined);
  }

  async enqueue(job: NewJob): Promise<void> {
    const q = namedQueue(job.queue);
    await this.#publish(q.exchange, q.routingKey, job.data, job.messageId, jobHeaders(job));
  }

  async publish(topic: string, messageId: string, data: unknown): Promise<void> {
    if (!this.#declaredTopics.has(topic)) {
      await this.#withChannel((channel) => declareTopic(channel, topic));
      this.#declaredTopics.add(topic);
    }
    await this.#publish(topicExchange(topic), '', data, messageId, { 'x-iii-enqueued-at': Date.now() });
  }

  holds(job: Job): boolean {
    return this.#deliveries.get(job)?.generation === this.#generation;
  }

  ack(job: Job): void {
    const delivery = this.#delivery(job);
    if (delivery) this.#link?.consumer.ack(delivery);
  }

  retry(): void {
    // Held unacknowledged through the backoff; the dispatcher delivers it again.
  }

  deadLetter(job: Job, error: string, failedAt: number): void {
    const delivery = this.#delivery(job);
    if (!delivery) return;
    const q = laneQueues(laneMetaOf(job));
    const headers = { ...jobHeaders(job), 'x-iii-error': error, 'x-iii-failed-at': failedAt };
    this.#publish(q.dlqExchange, q.dlqRoutingKey, job.data, job.messageId, headers).then(
      () => this.#delivery(job) && this.#link?.consumer.ack(delivery),
      (publishError: Error) => {
        // Not dead-lettered: give it back to the broker to be delivered again.
        this.logger.error(
          { err: publishError.message, queue: job.queue },
          'queue dead letter not stored; job requeued',
        );
        if (this.#delivery(job)) this.#link?.consumer.nack(delivery, false, true);
      },
    );
  }

  redrive(queue: string, messageId?: string): Promise<number> {
    return this.#scanDeadLetters(queue, messageId, async (channel, message, q) => {
      const headers: Headers = { ...(message.properties.headers as Headers), 'x-attempt': 0 };
      delete headers['x-iii-error'];
      delete headers['x-iii-failed-at'];
      await this.#publish(q.exchange, q.routingKey, undefined, message.properties.messageId, headers, message.content);
      channel.ack(message);
    });
  }

  discard(queue: string, messageId: string): Promise<number> {
    return this.#scanDeadLetters(queue, messageId, async (channel, message) => channel.ack(message));
  }

  async deadLetters(queue: string, offset: number, limit: number): Promise<StoredDeadLetter[]> {
    const found: StoredDeadLetter[] = [];
    await this.#withChannel(async (channel) => {
      for (const [meta, q] of this.#laneQueuesOf(queue)) {
        const depth = await messageCount(this.#withChannel.bind(this), q.dlq);
        for (let i = 0; i < depth && found.length < offset + limit; i++) {
          const message = await channel.get(q.dlq, { noAck: false });
          if (!message) break;
          found.push(toDeadLetter(meta, message, found.length));
        }
      }
      // Closing the channel puts every message it took back, in order.
    });
    return found.slice(offset, offset + limit);
  }

  async countDeadLetters(queue: string): Promise<number> {
    let total = 0;
    for (const [, q] of this.#laneQueuesOf(queue)) total += await messageCount(this.#withChannel.bind(this), q.dlq);
    return total;
  }

  async deadLetterCounts(): Promise<Array<{ queue: string; count: number }>> {
    const names = [...new Set([...this.#lanes.values()].map((lane) => lane.meta.name))].sort();
    const counts: Array<{ queue: string; count: number }> = [];
    for (const queue of names) {
      const count = await this.countDeadLetters(queue);
      if (count > 0) counts.push({ queue, count });
    }
    return counts;
  }

  brokerDepth(_key: string, meta: LaneMeta): Promise<number> {
    return messageCount(this.#withChannel.bind(this), laneQueues(meta).queue);
  }

  async close(): Promise<void> {
    this.#closing = true;
    // Closing the connection hands every unacknowledged delivery back to the broker.
    await this.#link?.connection.close().catch(() => undefined);
    this.#link = undefined;
  }

  // ---- connection

  async #open(): Promise<Link> {
    const pending = connect(this.url);
    const connection = await withTimeout(pending, CONNECT_TIMEOUT_MS).catch((error: Error) => {
      // A connection that completes after the timeout is closed at once.
      pending.then((late) => late.close()).catch(() => undefined);
      throw new Error(
        `cannot connect to RabbitMQ at ${redact(this.url)} (${error.message}); is rabbitmq-server running there?`,
      );
    });
    try {
      const publisher = await connection.createConfirmChannel();
      const consumer = await connection.createChannel();
      const generation = ++this.#generation;
      const lost = (what: string) => (error?: Error) => this.#lost(generation, what, error);
      connection.on('error', () => undefined); // 'close' follows with the reason
      connection.on('close', lost('connection'));
      for (const channel of [publisher, consumer]) {
        channel.on('error', () => undefined);
        channel.on('close', lost('channel'));
      }
      return { connection, publisher, consumer, generation };
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  #lost(generation: number, what: string, error?: Error): void {
    if (this.#closing || generation !== this.#generation || !this.#link) return;
    const link = this.#link;
    this.#link = undefined;
    this.#generation++;
    this.#declaredTopics.clear();
    for (const lane of this.#lanes.values()) delete lane.consumerTag;
    link.connection.close().catch(() => undefined);
    this.logger.error({ err: error?.message, what }, 'RabbitMQ connection lost; reconnecting');
    this.onLost();
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    while (!this.#closing && !this.#link) {
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS).unref());
      if (this.#closing) return;
      try {
        const link = await this.#open();
        if (this.#closing) {
          await link.connection.close().catch(() => undefined);
          return;
        }
        this.#link = link;
        for (const [key, lane] of this.#lanes) await this.#inOrder(() => this.#consume(key, lane));
        this.logger.info({ lanes: this.#lanes.size }, 'RabbitMQ connection restored');
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'RabbitMQ still unavailable');
      }
    }
  }

  #live(): Link {
    if (!this.#link) throw new EngineError('enqueue_error', 'RabbitMQ is unavailable (reconnecting)');
    return this.#link;
  }

  #inOrder<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(step, step);
    this.#serial = next.catch(() => undefined);
    return next;
  }

  // ---- consuming

  async #consume(key: string, lane: OpenLane): Promise<void> {
    const link = this.#live();
    const { meta } = lane;
    await this.#withChannel((channel) =>
      meta.kind === 'queue'
        ? declareNamedQueue(channel, meta.name)
        : declareSubscriber(channel, meta.name, meta.subscriber ?? ''),
    );
    if (lane.consumerTag) await link.consumer.cancel(lane.consumerTag);
    await link.consumer.prefetch(Math.max(1, lane.settings.concurrency));
    const { consumerTag } = await link.consumer.consume(laneQueues(meta).queue, (message) => {
      if (message) this.#received(key, lane.meta, message, link.generation);
    });
    lane.consumerTag = consumerTag;
  }

  #received(key: string, meta: LaneMeta, message: ConsumeMessage, generation: number): void {
    let data: unknown;
    try {
      data = JSON.parse(message.content.toString('utf8'));
    } catch {
      this.logger.error({ lane: key }, 'queue message is not JSON; dead-lettered by the broker');
      this.#link?.consumer.nack(message, false, false);
      return;
    }
    const headers = (message.properties.headers ?? {}) as Headers;
    const now = Date.now();
    const job: Job = {
      seq: ++this.#seq,
      kind: meta.kind,
      queue: meta.name,
      messageId: String(message.properties.messageId ?? ''),
      functionId: meta.kind === 'topic' ? (meta.subscriber ?? '') : String(headers.function_id ?? ''),
      data,
      groupKey: typeof headers['x-iii-group'] === 'string' ? headers['x-iii-group'] : null,
      attempts: Number(headers['x-attempt'] ?? 0) || 0,
      availableAt: now,
      enqueuedAt: Number(headers['x-iii-enqueued-at'] ?? now) || now,
    };
    if (typeof headers.traceparent === 'string') job.traceparent = headers.traceparent;
    if (typeof headers.baggage === 'string') job.baggage = headers.baggage;
    this.#deliveries.set(job, { message, generation });
    this.#sink(job);
  }

  /** The job's delivery, if it belongs to the current connection. */
  #delivery(job: Job): ConsumeMessage | undefined {
    const delivery = this.#deliveries.get(job);
    return delivery?.generation === this.#generation ? delivery.message : undefined;
  }

  // ---- publishing and dead letters

  #publish(
    exchange: string,
    routingKey: string,
    data: unknown,
    messageId: string | undefined,
    headers: Headers,
    content: Buffer = Buffer.from(JSON.stringify(data ?? null)),
  ): Promise<void> {
    const link = this.#live();
    return new Promise<void>((resolve, reject) => {
      link.publisher.publish(
        exchange,
        routingKey,
        content,
        { persistent: true, contentType: 'application/json', messageId, headers },
        (error) =>
          error ? reject(new EngineError('enqueue_error', `RabbitMQ refused the message: ${error}`)) : resolve(),
      );
    });
  }

  /** Runs `step` on a channel of its own, closed afterwards (returning whatever it took). */
  async #withChannel<T>(step: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.#live().connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return await step(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** The queues of a name: the named queue (if this engine consumes it) and the topic's subscribers. */
  #laneQueuesOf(name: string): Array<[LaneMeta, LaneQueues]> {
    const found: Array<[LaneMeta, LaneQueues]> = [];
    for (const lane of this.#lanes.values())
      if (lane.meta.name === name) found.push([lane.meta, laneQueues(lane.meta)]);
    return found;
  }

  /** Takes every dead letter of `name` once; `onMatch` settles the matching ones, the rest go back. */
  async #scanDeadLetters(
    name: string,
    messageId: string | undefined,
    onMatch: (channel: Channel, message: Taken, q: LaneQueues) => Promise<void>,
  ): Promise<number> {
    let matched = 0;
    for (const [, q] of this.#laneQueuesOf(name)) {
      const depth = await messageCount(this.#withChannel.bind(this), q.dlq);
      await this.#withChannel(async (channel) => {
        for (let i = 0; i < depth; i++) {
          const message = await channel.get(q.dlq, { noAck: false });
          if (!message) break;
          if (messageId !== undefined && message.properties.messageId !== messageId) continue;
          await onMatch(channel, message, q);
          matched++;
        }
      });
    }
    return matched;
  }
}
