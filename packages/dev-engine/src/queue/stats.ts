/** `engine::queue::list_topics` and `engine::queue::topic_stats`. */
import type { QueueSettings } from './config.js';
import { asObject, requireQueueName } from './input.js';
import type { QueueModule } from './module.js';
import { queueLaneKey, topicLaneKey } from './types.js';

const LIST_TOPICS = 'engine::queue::list_topics';
const TOPIC_STATS = 'engine::queue::topic_stats';

export interface TopicView {
  name: string;
  kind: 'queue' | 'topic';
  broker_type: string;
  subscriber_count: number;
  depth: number;
}

export interface TopicStats {
  /**
   * Unacknowledged jobs: queued, in backoff, waiting for their function, or in flight (with
   * RabbitMQ: those this engine holds plus those still waiting in the broker).
   */
  depth: number;
  in_flight: number;
  /** Topics: live `durable:subscriber` triggers. Queues: 1 (the in-process consumer). */
  consumer_count: number;
  dlq_depth: number;
  /** Successful deliveries since the engine started. */
  delivered: number;
  /** Failed deliveries (each retry counts) since the engine started. */
  failed: number;
  /** The queue's definition; null for topics. */
  config: QueueSettings | null;
}

export function registerStatsFunctions(mod: QueueModule): void {
  mod.engine.registerFunction({
    id: LIST_TOPICS,
    description: 'List named queues and durable topics',
    handler: () => listTopics(mod),
  });
  mod.engine.registerFunction({
    id: TOPIC_STATS,
    description: 'Depth, dead letters and delivery counters of a queue or topic',
    handler: (raw: unknown) => topicStats(mod, requireQueueName(asObject(raw, TOPIC_STATS), TOPIC_STATS)),
  });
}

function listTopics(mod: QueueModule): TopicView[] {
  const queues: TopicView[] = mod.definitions.names().map((name) => ({
    name,
    kind: 'queue',
    broker_type: mod.transport.brokerType,
    subscriber_count: 1,
    depth: mod.dispatcher.lane(queueLaneKey(name))?.size ?? 0,
  }));
  const topics: TopicView[] = mod.topics.topics().map((name) => ({
    name,
    kind: 'topic',
    broker_type: mod.transport.brokerType,
    subscriber_count: mod.topics.subscriberCount(name),
    depth: laneTotals(mod, name, 'topic').depth,
  }));
  return [...queues, ...topics].sort((a, b) => a.name.localeCompare(b.name));
}

async function topicStats(mod: QueueModule, name: string): Promise<TopicStats> {
  const queue = laneTotals(mod, name, 'queue');
  const topic = laneTotals(mod, name, 'topic');
  const config = mod.definitions.get(name) ?? null;
  let waiting = config ? await mod.transport.brokerDepth(queueLaneKey(name), { kind: 'queue', name }) : 0;
  for (const functionId of mod.topics.subscribers(name))
    waiting += await mod.transport.brokerDepth(topicLaneKey(name, functionId), {
      kind: 'topic',
      name,
      subscriber: functionId,
    });
  return {
    depth: queue.depth + topic.depth + mod.dispatcher.orphanCount(queueLaneKey(name)) + waiting,
    in_flight: queue.inFlight + topic.inFlight,
    consumer_count: (config ? 1 : 0) + mod.topics.consumerCount(name),
    dlq_depth: await mod.transport.countDeadLetters(name),
    delivered: queue.delivered + topic.delivered,
    failed: queue.failed + topic.failed,
    config,
  };
}

function laneTotals(mod: QueueModule, name: string, kind: 'queue' | 'topic') {
  const totals = { depth: 0, inFlight: 0, delivered: 0, failed: 0 };
  for (const lane of mod.dispatcher.lanes()) {
    if (lane.meta.name !== name || lane.meta.kind !== kind) continue;
    totals.depth += lane.size;
    totals.inFlight += lane.inFlight;
    totals.delivered += lane.delivered;
    totals.failed += lane.failed;
  }
  return totals;
}
