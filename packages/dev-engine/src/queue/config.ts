/**
 * The `iii-queue` config block, `queue::define` configs and `durable:subscriber` trigger configs:
 * parsing, defaults and validation. Every error names the offending key.
 */

export type QueueType = 'standard' | 'fifo';

/** A named queue, as in `queue_configs.<name>` (all defaults filled in). */
export interface QueueSettings {
  type: QueueType;
  /** Required for `fifo`: the payload field whose value names the ordering group. */
  message_group_field?: string;
  /** Failed deliveries before the job is dead-lettered. */
  max_retries: number;
  /** Jobs in flight at once (fifo: across all groups, at most one per group). */
  concurrency: number;
  /** Base retry delay; the n-th retry waits `backoff_ms · 2^(n−1)`. */
  backoff_ms: number;
  /** Accepted for parity with iii; dispatch here is event-driven, not polled. */
  poll_interval_ms: number;
  /** Per-delivery timeout; a delivery that takes longer counts as failed. */
  timeout_ms: number;
  /** Accepted for parity (RabbitMQ-only in iii); ignored. */
  max_priority?: number;
  /** Accepted for parity (RabbitMQ-only in iii); ignored. */
  priority_field?: string;
}

/**
 * `adapter` of the `iii-queue` entry: `builtin` (also `in_memory` / `file_based`; jobs in the
 * engine's SQLite database) or `rabbitmq` (jobs in RabbitMQ, shared by every engine on it).
 */
export type QueueAdapterSettings = { name: 'builtin' } | { name: 'rabbitmq'; amqp_url: string };

export const DEFAULT_AMQP_URL = 'amqp://localhost:5672';

export interface QueueModuleSettings {
  queues: Record<string, QueueSettings>;
  adapter: QueueAdapterSettings;
}

/** A `durable:subscriber` binding's config, normalized. */
export interface SubscriberSettings {
  topic: string;
  fifo: boolean;
  max_retries: number;
  backoff_ms: number;
  concurrency: number;
  timeout_ms: number;
  condition_function_id?: string;
}

export const DEFAULT_QUEUE_SETTINGS: Readonly<QueueSettings> = Object.freeze({
  type: 'standard',
  max_retries: 3,
  concurrency: 10,
  backoff_ms: 1000,
  poll_interval_ms: 100,
  timeout_ms: 30 * 60 * 1000,
});

export class QueueConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueConfigError';
  }
}

const MODULE_KEYS = ['queue_configs', 'adapter'];
const QUEUE_KEYS = [
  'type',
  'message_group_field',
  'max_retries',
  'concurrency',
  'backoff_ms',
  'poll_interval_ms',
  'timeout_ms',
  'max_priority',
  'priority_field',
];

/** Parses the `config` of the `iii-queue` entry in config.yaml (or `{}`). Throws QueueConfigError. */
export function parseQueueModuleConfig(raw: unknown): QueueModuleSettings {
  try {
    const config = asRecord(raw ?? {}, 'config');
    rejectUnknownKeys(config, MODULE_KEYS, '');
    const queueConfigs = asRecord(config.queue_configs ?? {}, 'queue_configs');
    const queues: Record<string, QueueSettings> = {};
    for (const [name, entry] of Object.entries(queueConfigs)) {
      queues[name] = parseQueueSettings(entry, `queue_configs.${name}`);
    }
    return { queues, adapter: parseAdapter(config.adapter) };
  } catch (error) {
    if (error instanceof QueueConfigError) throw new QueueConfigError(`iii-queue config: ${error.message}`);
    throw error;
  }
}

/** The queue worker's `rabbitmq` keys; only `amqp_url` changes anything here (see README). */
const RABBITMQ_KEYS = ['amqp_url', 'max_attempts', 'prefetch_count', 'queue_mode', 'priority_field'];

function parseAdapter(raw: unknown): QueueAdapterSettings {
  if (raw === undefined || raw === null) return { name: 'builtin' };
  const adapter = asRecord(raw, 'adapter');
  rejectUnknownKeys(adapter, ['name', 'config'], 'adapter');
  const name = optionalString(adapter.name, 'adapter.name');
  if (name === 'builtin' || name === 'in_memory' || name === 'file_based') return { name: 'builtin' };
  if (name === 'rabbitmq') {
    const config = asRecord(adapter.config ?? {}, 'adapter.config');
    rejectUnknownKeys(config, RABBITMQ_KEYS, 'adapter.config');
    const url = optionalString(config.amqp_url, 'adapter.config.amqp_url') ?? DEFAULT_AMQP_URL;
    if (!/^amqps?:\/\//.test(url))
      throw new QueueConfigError('adapter.config.amqp_url must be an amqp:// or amqps:// URL');
    return { name: 'rabbitmq', amqp_url: url };
  }
  if (name === 'redis')
    throw new QueueConfigError(
      'adapter "redis" cannot carry named queues (iii\'s redis queue adapter is pub/sub only, without retries or dead letters); use "rabbitmq" to share queues between engines',
    );
  throw new QueueConfigError(`adapter.name must be "builtin" or "rabbitmq" (got ${JSON.stringify(adapter.name)})`);
}

/** Parses one queue definition (`queue_configs.<name>` or `queue::define`'s `config`). */
export function parseQueueSettings(raw: unknown, where: string): QueueSettings {
  const entry = asRecord(raw ?? {}, where);
  rejectUnknownKeys(entry, QUEUE_KEYS, where);
  const settings: QueueSettings = {
    type: parseQueueType(entry.type, `${where}.type`),
    max_retries: intOr(entry.max_retries, DEFAULT_QUEUE_SETTINGS.max_retries, 0, `${where}.max_retries`),
    concurrency: intOr(entry.concurrency, DEFAULT_QUEUE_SETTINGS.concurrency, 1, `${where}.concurrency`),
    backoff_ms: intOr(entry.backoff_ms, DEFAULT_QUEUE_SETTINGS.backoff_ms, 0, `${where}.backoff_ms`),
    poll_interval_ms: intOr(
      entry.poll_interval_ms,
      DEFAULT_QUEUE_SETTINGS.poll_interval_ms,
      1,
      `${where}.poll_interval_ms`,
    ),
    timeout_ms: intOr(entry.timeout_ms, DEFAULT_QUEUE_SETTINGS.timeout_ms, 1, `${where}.timeout_ms`),
  };
  const groupField = optionalString(entry.message_group_field, `${where}.message_group_field`);
  if (groupField !== undefined) settings.message_group_field = groupField;
  if (settings.type === 'fifo' && !groupField) {
    throw new QueueConfigError(`${where}.message_group_field is required when type is "fifo"`);
  }
  if (entry.max_priority !== undefined && entry.max_priority !== null) {
    settings.max_priority = intOr(entry.max_priority, 0, 0, `${where}.max_priority`);
  }
  const priorityField = optionalString(entry.priority_field, `${where}.priority_field`);
  if (priorityField !== undefined) settings.priority_field = priorityField;
  return settings;
}

/**
 * Parses a `durable:subscriber` trigger config: `{queue | topic, max_retries?, backoff_ms?,
 * condition_function_id?, queue_config?}`. Unknown keys are ignored (other SDKs may add some);
 * `queue_config` is iii's builtin subscriber shape (`type`, `maxRetries`, `concurrency`,
 * `backoffDelayMs`, …) and fills in whatever the top-level keys leave out.
 */
export function parseSubscriberConfig(raw: unknown): SubscriberSettings {
  const where = 'durable:subscriber config';
  const config = asRecord(raw, where);
  const topic = optionalString(config.queue, `${where}.queue`) ?? optionalString(config.topic, `${where}.topic`);
  if (!topic) throw new QueueConfigError(`${where}.queue (or .topic) is required`);
  const queueConfig = asRecord(config.queue_config ?? {}, `${where}.queue_config`);
  const type = optionalString(queueConfig.type, `${where}.queue_config.type`) ?? 'concurrent';
  if (!['concurrent', 'standard', 'fifo'].includes(type)) {
    throw new QueueConfigError(`${where}.queue_config.type must be "concurrent" or "fifo" (got "${type}")`);
  }
  const settings: SubscriberSettings = {
    topic,
    fifo: type === 'fifo',
    max_retries: intOr(
      config.max_retries ?? queueConfig.maxRetries,
      DEFAULT_QUEUE_SETTINGS.max_retries,
      0,
      `${where}.max_retries`,
    ),
    backoff_ms: intOr(
      config.backoff_ms ?? queueConfig.backoffDelayMs,
      DEFAULT_QUEUE_SETTINGS.backoff_ms,
      0,
      `${where}.backoff_ms`,
    ),
    concurrency: intOr(
      queueConfig.concurrency,
      DEFAULT_QUEUE_SETTINGS.concurrency,
      1,
      `${where}.queue_config.concurrency`,
    ),
    timeout_ms: intOr(config.timeout_ms, DEFAULT_QUEUE_SETTINGS.timeout_ms, 1, `${where}.timeout_ms`),
  };
  const condition = optionalString(config.condition_function_id, `${where}.condition_function_id`);
  if (condition) settings.condition_function_id = condition;
  return settings;
}

/** Structural equality of two normalized settings objects (key order independent). */
export function sameSettings(a: QueueSettings, b: QueueSettings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if ((a as unknown as Record<string, unknown>)[key] !== (b as unknown as Record<string, unknown>)[key]) return false;
  }
  return true;
}

function parseQueueType(value: unknown, where: string): QueueType {
  if (value === undefined || value === null) return DEFAULT_QUEUE_SETTINGS.type;
  if (value === 'standard' || value === 'fifo') return value;
  throw new QueueConfigError(`${where} must be "standard" or "fifo" (got ${JSON.stringify(value)})`);
}

function intOr(value: unknown, fallback: number, min: number, where: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new QueueConfigError(`${where} must be an integer >= ${min} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new QueueConfigError(`${where} must be a string (got ${JSON.stringify(value)})`);
  }
  return value;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QueueConfigError(`${where} must be a mapping (got ${JSON.stringify(value)})`);
  }
  return value as Record<string, unknown>;
}

function rejectUnknownKeys(entry: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(entry)) {
    if (!allowed.includes(key)) {
      const path = where ? `${where}.${key}` : key;
      throw new QueueConfigError(`${path}: unknown key (allowed: ${allowed.join(', ')})`);
    }
  }
}
