import { z } from 'zod';
import { contract } from '../contract.js';

/**
 * The engine's own functions the harness calls (iii v0.22.1 builtins and the queue worker). Their
 * shapes are the engine's: outputs are described as loosely as the engine guarantees and no more.
 * Storage values are `unknown` here; callers validate what they stored with their own schemas.
 */

const scopeKey = { scope: z.string().min(1), key: z.string().min(1) };
const streamItem = { stream_name: z.string().min(1), group_id: z.string().min(1), item_id: z.string().min(1) };

/** `state::update` / `stream::update` ops; `path` is one top-level key except for merge/append. */
export const updateOp = z.discriminatedUnion('type', [
  z.object({ type: z.literal('set'), path: z.string(), value: z.unknown() }),
  z.object({
    type: z.literal('merge'),
    path: z.union([z.string(), z.array(z.string())]).optional(),
    value: z.record(z.string(), z.unknown()),
  }),
  z.object({ type: z.enum(['increment', 'decrement']), path: z.string(), by: z.number() }),
  z.object({
    type: z.literal('append'),
    path: z.union([z.string(), z.array(z.string())]).optional(),
    value: z.unknown(),
  }),
  z.object({ type: z.literal('remove'), path: z.string() }),
]);
export type UpdateOp = z.infer<typeof updateOp>;

export const updateResult = z.object({
  old_value: z.unknown(),
  new_value: z.unknown(),
  errors: z.array(z.object({ op_index: z.number(), code: z.string(), message: z.string() }).loose()).optional(),
});

const changed = z.object({ old_value: z.unknown(), new_value: z.unknown() });

export const functionSummary = z
  .object({
    function_id: z.string(),
    worker_name: z.string().optional(),
    description: z.string().optional(),
    metadata: z.unknown().optional(),
  })
  .loose();

export const functionDetail = functionSummary.extend({
  request_schema: z.unknown().optional(),
  response_schema: z.unknown().optional(),
  registered_triggers: z.array(z.unknown()).optional(),
});

/** One live trigger instance (a subscriber row) as the engine lists it. */
export const registeredTrigger = z
  .object({
    id: z.string().optional(),
    trigger_type: z.string(),
    function_id: z.string(),
    config: z.unknown().optional(),
  })
  .loose();

export const queueConfig = z
  .object({
    type: z.enum(['standard', 'fifo']).optional(),
    message_group_field: z.string().optional(),
    max_retries: z.number().int().nonnegative().optional(),
    concurrency: z.number().int().positive().optional(),
    backoff_ms: z.number().int().nonnegative().optional(),
  })
  .loose();
export type QueueConfig = z.infer<typeof queueConfig>;

/**
 * The engine's observability builtins (iii v0.22.1's `iii-observability`; the dev engine serves
 * the same): spans and logs the workers export over `/otel`. Nanosecond times may exceed 2^53,
 * so they are numbers or strings; attributes are `[[key, value]…]` pairs on spans.
 */
const nanos = z.union([z.number(), z.string()]);
const attributePairs = z.union([z.array(z.tuple([z.string(), z.unknown()])), z.record(z.string(), z.unknown())]);

export const storedSpan = z.looseObject({
  trace_id: z.string(),
  span_id: z.string(),
  parent_span_id: z.string().nullish(),
  name: z.string(),
  start_time_unix_nano: nanos,
  end_time_unix_nano: nanos,
  status: z.unknown().optional(),
  status_description: z.string().nullish(),
  attributes: attributePairs.optional(),
  events: z.array(z.looseObject({ name: z.string(), timestamp_unix_nano: nanos.optional() })).optional(),
  service_name: z.string().nullish(),
});
export type StoredSpan = z.output<typeof storedSpan> & { children?: StoredSpan[] };
const spanNode: z.ZodType<StoredSpan> = z.lazy(() => storedSpan.extend({ children: z.array(spanNode).optional() }));

export const storedLog = z.looseObject({
  timestamp_unix_nano: nanos.optional(),
  severity_number: z.number().nullish(),
  severity_text: z.string().nullish(),
  body: z.unknown(),
  trace_id: z.string().nullish(),
  span_id: z.string().nullish(),
  attributes: attributePairs.nullish(),
  service_name: z.string().nullish(),
});
export type StoredLog = z.output<typeof storedLog>;

export const traceGroup = z.looseObject({
  value: z.string(),
  label: z.string().nullish(),
  trace_ids: z.array(z.string()),
  span_count: z.number().optional(),
  first_seen_ms: z.number().optional(),
  last_seen_ms: z.number().optional(),
  duration_ms: z.number().optional(),
  error_count: z.number().optional(),
});

const traceId = z.string().min(1).max(64);

export const observability = {
  tracesList: contract({
    id: 'engine::traces::list',
    description: 'Stored spans (root spans unless search_all_spans), filtered, sorted and paged',
    input: z
      .object({
        trace_id: traceId.optional(),
        trace_ids: z.array(traceId).max(1_000).optional(),
        service_name: z.string().max(200).optional(),
        name: z.string().max(300).optional(),
        status: z.string().max(20).optional(),
        min_duration_ms: z.number().nonnegative().optional(),
        max_duration_ms: z.number().nonnegative().optional(),
        start_time: z.number().optional(),
        end_time: z.number().optional(),
        attributes: z
          .array(z.tuple([z.string().max(200), z.string().max(500)]))
          .max(20)
          .optional(),
        exclude_attributes: z
          .array(z.tuple([z.string().max(200), z.string().max(500)]))
          .max(20)
          .optional(),
        sort_by: z.enum(['start_time', 'duration', 'name', 'service_name']).optional(),
        sort_order: z.enum(['asc', 'desc']).optional(),
        offset: z.number().int().nonnegative().optional(),
        limit: z.number().int().positive().max(10_000).optional(),
        include_internal: z.boolean().optional(),
        search_all_spans: z.boolean().optional(),
      })
      .strict(),
    output: z.looseObject({ spans: z.array(storedSpan), total: z.number().optional() }),
  }),
  tracesTree: contract({
    id: 'engine::traces::tree',
    description: "One trace's spans as a tree (each span with its children, by start time)",
    input: z.object({ trace_id: traceId }).strict(),
    output: z.looseObject({ roots: z.array(spanNode) }),
  }),
  tracesGroupBy: contract({
    id: 'engine::traces::group_by',
    description: 'Traces grouped by a span attribute (iii.session.id), newest first',
    input: z
      .object({
        attribute: z.string().min(1).max(200),
        since_ms: z.number().int().nonnegative().optional(),
        limit: z.number().int().positive().max(10_000).optional(),
        include_internal: z.boolean().optional(),
        label_attribute: z.string().max(200).optional(),
      })
      .strict(),
    output: z.looseObject({ groups: z.array(traceGroup) }),
  }),
  logsList: contract({
    id: 'engine::logs::list',
    description: 'Stored log records, newest first, optionally of one trace or span',
    input: z
      .object({
        trace_id: traceId.optional(),
        span_id: z.string().min(1).max(64).optional(),
        severity_min: z.number().int().optional(),
        severity_text: z.string().max(20).optional(),
        start_time: z.number().optional(),
        end_time: z.number().optional(),
        offset: z.number().int().nonnegative().optional(),
        limit: z.number().int().positive().max(10_000).optional(),
      })
      .strict(),
    output: z.looseObject({ logs: z.array(storedLog), total: z.number().optional() }),
  }),
};

export const engine = {
  stateGet: contract({
    id: 'state::get',
    description: 'The value stored under scope/key, or nothing',
    input: z.object(scopeKey),
    output: z.unknown(),
  }),
  stateSet: contract({
    id: 'state::set',
    description: 'Store a value under scope/key',
    input: z.object({ ...scopeKey, value: z.unknown() }),
    output: changed,
  }),
  stateUpdate: contract({
    id: 'state::update',
    description: 'Apply update ops to the value under scope/key, atomically',
    input: z.object({ ...scopeKey, ops: z.array(updateOp) }),
    output: updateResult,
  }),
  stateDelete: contract({
    id: 'state::delete',
    description: 'Delete scope/key; the old value, or nothing',
    input: z.object(scopeKey),
    output: z.unknown(),
  }),
  stateList: contract({
    id: 'state::list',
    description: 'Every value of a scope, unordered',
    input: z.object({ scope: z.string().min(1) }),
    output: z.array(z.unknown()).nullish(),
  }),
  streamSet: contract({
    id: 'stream::set',
    description: 'Store a stream item; subscribers of the group are told',
    input: z.object({ ...streamItem, data: z.unknown() }),
    output: changed,
  }),
  streamGet: contract({
    id: 'stream::get',
    description: 'One stream item, or nothing',
    input: z.object(streamItem),
    output: z.unknown(),
  }),
  streamDelete: contract({
    id: 'stream::delete',
    description: 'Delete a stream item',
    input: z.object(streamItem),
    output: z.object({ old_value: z.unknown() }).loose().nullish(),
  }),
  streamList: contract({
    id: 'stream::list',
    description: 'Every item of a stream group',
    input: z.object({ stream_name: z.string().min(1), group_id: z.string().min(1) }),
    output: z.array(z.unknown()).nullish(),
  }),
  streamUpdate: contract({
    id: 'stream::update',
    description: 'Apply update ops to a stream item, atomically',
    input: z.object({ ...streamItem, ops: z.array(updateOp) }),
    output: updateResult,
  }),
  streamSend: contract({
    id: 'stream::send',
    description: 'A custom event on a stream group (not stored)',
    input: z.object({
      stream_name: z.string().min(1),
      group_id: z.string().min(1),
      type: z.string().min(1),
      data: z.unknown(),
      id: z.string().optional(),
    }),
    output: z.unknown(),
  }),
  functionsList: contract({
    id: 'engine::functions::list',
    description: 'Registered functions with their owning worker',
    input: z.object({
      search: z.string().optional(),
      prefix: z.string().optional(),
      worker: z.string().optional(),
      include_internal: z.boolean().optional(),
    }),
    output: z.object({ functions: z.array(functionSummary) }).loose(),
  }),
  functionsInfo: contract({
    id: 'engine::functions::info',
    description: "One function's schemas, owner and triggers",
    input: z.object({ function_id: z.string().min(1) }),
    output: functionDetail,
  }),
  registeredTriggersList: contract({
    id: 'engine::registered-triggers::list',
    description: 'Live trigger instances (subscriber rows), optionally of one trigger type or function',
    input: z.object({
      trigger_type: z.string().optional(),
      function_id: z.string().optional(),
      worker: z.string().optional(),
      search: z.string().optional(),
      include_internal: z.boolean().optional(),
    }),
    output: z.object({ registered_triggers: z.array(registeredTrigger) }).loose(),
  }),
  queueDefine: contract({
    id: 'queue::define',
    description: 'Declare a named queue (idempotent)',
    input: z.object({ queue: z.string().min(1), config: queueConfig }),
    output: z.object({ queue: z.string(), changed: z.boolean() }).loose(),
  }),
  publish: contract({
    id: 'publish',
    description: 'Publish on a topic to its current subscribers',
    input: z.object({ topic: z.string().min(1), data: z.unknown() }),
    output: z.unknown(),
  }),
  durablePublish: contract({
    id: 'iii::durable::publish',
    description: 'Publish on a durable topic: each subscriber gets it through a queue',
    input: z.object({ topic: z.string().min(1), data: z.unknown() }),
    output: z.unknown(),
  }),
  ...observability,
};
