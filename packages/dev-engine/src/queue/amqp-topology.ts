/**
 * RabbitMQ names and declarations, as iii's queue worker lays them out:
 *
 * - a named queue `<q>`: direct exchange `iii.__fn_queue::<q>` → durable queue
 *   `iii.__fn_queue::<q>.queue` (routing key `<q>`, dead-letter exchange `iii.__fn_queue::<q>::dlq`)
 *   and its dead letters in `iii.__fn_queue::<q>::dlq.queue`;
 * - a durable topic `<t>`: fanout exchange `iii.<t>.exchange`; each subscribed function `<f>` has
 *   its durable queue `iii.<t>.<f>.queue` bound to it (every engine's consumers of `<f>` compete
 *   on it) and its dead letters in `iii.<t>.<f>.dlq`.
 *
 * Declarations run on a channel of their own: RabbitMQ closes a channel on a failed declaration
 * (e.g. an existing queue with other arguments), which must not take the consumers down with it.
 */
import type { Channel } from 'amqplib';
import type { LaneMeta } from './lane.js';

export interface LaneQueues {
  /** Where jobs of the lane wait. */
  queue: string;
  /** Where its dead letters wait. */
  dlq: string;
  /** Where an enqueue (or a redriven dead letter) is published: exchange and routing key. */
  exchange: string;
  routingKey: string;
  /** Where a dead letter is published. */
  dlqExchange: string;
  dlqRoutingKey: string;
}

export function namedQueue(name: string): LaneQueues {
  const base = `iii.__fn_queue::${name}`;
  return {
    queue: `${base}.queue`,
    dlq: `${base}::dlq.queue`,
    exchange: base,
    routingKey: name,
    dlqExchange: `${base}::dlq`,
    dlqRoutingKey: name,
  };
}

export function topicExchange(topic: string): string {
  return `iii.${topic}.exchange`;
}

export function subscriberQueue(topic: string, functionId: string): LaneQueues {
  const queue = `iii.${topic}.${functionId}.queue`;
  const dlq = `iii.${topic}.${functionId}.dlq`;
  // Redriven messages go straight back to the subscriber's queue (the default exchange routes by
  // queue name), not through the fanout exchange to every subscriber.
  return { queue, dlq, exchange: '', routingKey: queue, dlqExchange: '', dlqRoutingKey: dlq };
}

export function laneQueues(meta: LaneMeta): LaneQueues {
  return meta.kind === 'queue' ? namedQueue(meta.name) : subscriberQueue(meta.name, meta.subscriber ?? '');
}

export async function declareNamedQueue(channel: Channel, name: string): Promise<LaneQueues> {
  const q = namedQueue(name);
  await channel.assertExchange(q.exchange, 'direct', { durable: true });
  await channel.assertExchange(q.dlqExchange, 'direct', { durable: true });
  await channel.assertQueue(q.dlq, { durable: true });
  await channel.bindQueue(q.dlq, q.dlqExchange, q.dlqRoutingKey);
  await channel.assertQueue(q.queue, { durable: true, arguments: { 'x-dead-letter-exchange': q.dlqExchange } });
  await channel.bindQueue(q.queue, q.exchange, q.routingKey);
  return q;
}

export async function declareTopic(channel: Channel, topic: string): Promise<string> {
  const exchange = topicExchange(topic);
  await channel.assertExchange(exchange, 'fanout', { durable: true });
  return exchange;
}

export async function declareSubscriber(channel: Channel, topic: string, functionId: string): Promise<LaneQueues> {
  const exchange = await declareTopic(channel, topic);
  const q = subscriberQueue(topic, functionId);
  await channel.assertQueue(q.dlq, { durable: true });
  await channel.assertQueue(q.queue, { durable: true });
  await channel.bindQueue(q.queue, exchange, '');
  return q;
}
