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
 * Telemetry as the engine stores it (its observability worker: `engine::traces::*`,
 * `engine::logs::*`). Times are nanoseconds since the epoch; engines send them as numbers or as
 * decimal strings, and both arrive here as numbers (sub-microsecond precision is not kept).
 * Attributes arrive as `[key, value]` pairs (or a map) and leave as `[key, string]` pairs.
 */
const unixNanos = z.union([z.number().nonnegative(), z.string().regex(/^\d+$/)]).transform(Number);
const asText = (value: unknown) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
const attributePairs = z
  .union([z.array(z.tuple([z.string(), z.unknown()])), z.record(z.string(), z.unknown())])
  .transform(
    (attrs): Array<[string, string]> =>
      (Array.isArray(attrs) ? attrs : Object.entries(attrs)).map(([k, v]) => [k, asText(v)]),
  );
const hexId = z.string().min(1).max(64);

export const storedSpanEvent = z.looseObject({
  name: z.string(),
  timestamp_unix_nano: unixNanos.optional(),
  attributes: attributePairs.default([]),
});

export const storedSpanLink = z.looseObject({
  trace_id: z.string(),
  span_id: z.string(),
  attributes: attributePairs.default([]),
});

/** One span (the engine's `StoredSpan`); `status` is `unset`, `ok` or `error`, lower-cased. */
export const storedSpan = z.looseObject({
  trace_id: z.string(),
  span_id: z.string(),
  /** null (or absent) for a root span. */
  parent_span_id: z.string().nullish(),
  name: z.string(),
  start_time_unix_nano: unixNanos,
  end_time_unix_nano: unixNanos,
  status: z
    .string()
    .default('unset')
    .transform((s) => s.toLowerCase()),
  status_description: z.string().nullish(),
  attributes: attributePairs.default([]),
  service_name: z.string().nullish(),
  events: z.array(storedSpanEvent).default([]),
  links: z.array(storedSpanLink).default([]),
});
export type StoredSpan = z.output<typeof storedSpan>;

export type SpanTreeNode = StoredSpan & { children: SpanTreeNode[] };
export const spanTreeNode: z.ZodType<SpanTreeNode, unknown> = z.lazy(() =>
  storedSpan.extend({ children: z.array(spanTreeNode).default([]) }),
);

/** A group of `engine::traces::group_by`: the traces whose spans carry one value of the attribute. */
export const traceGroup = z.looseObject({
  value: z.string(),
  label: z.string().nullish(),
  trace_ids: z.array(z.string()),
  span_count: z.number().int().nonnegative(),
  first_seen_ms: z.number(),
  last_seen_ms: z.number(),
  duration_ms: z.number(),
  error_count: z.number().int().nonnegative(),
});
export type TraceGroup = z.output<typeof traceGroup>;

/** One log record (the engine's `StoredLog`). */
export const storedLog = z.looseObject({
  timestamp_unix_nano: unixNanos,
  observed_timestamp_unix_nano: unixNanos.optional(),
  severity_number: z.number().int(),
  severity_text: z.string(),
  body: z.unknown().transform(asText),
  attributes: z.record(z.string(), z.unknown()).default({}),
  trace_id: z.string().nullish(),
  span_id: z.string().nullish(),
  service_name: z.string().nullish(),
});
export type StoredLog = z.output<typeof storedLog>;

const attributeFilter = z.array(z.tuple([z.string().min(1), z.string()]));

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
  stateListGroups: contract({
    id: 'state::list_groups',
    description: 'Every state scope that holds a value, sorted',
    input: z.object({}),
    output: z.object({ groups: z.array(z.string()) }),
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
  tracesList: contract({
    id: 'engine::traces::list',
    description:
      'Root spans of the stored traces, filtered (substrings, durations, times, exact attributes), sorted and paged',
    input: z.object({
      trace_id: hexId.optional(),
      trace_ids: z.array(hexId).optional(),
      service_name: z.string().optional(),
      name: z.string().optional(),
      status: z.string().optional(),
      min_duration_ms: z.number().nonnegative().optional(),
      max_duration_ms: z.number().nonnegative().optional(),
      /** Milliseconds since the epoch; spans overlapping [start_time, end_time]. */
      start_time: z.number().int().nonnegative().optional(),
      end_time: z.number().int().nonnegative().optional(),
      /** Every pair must match exactly (AND). */
      attributes: attributeFilter.optional(),
      exclude_attributes: attributeFilter.optional(),
      sort_by: z.enum(['start_time', 'duration', 'name', 'service_name']).optional(),
      sort_order: z.enum(['asc', 'desc']).optional(),
      offset: z.number().int().nonnegative().optional(),
      limit: z.number().int().positive().optional(),
      /** Engine-internal spans (`engine::*` functions) are hidden unless this is true. */
      include_internal: z.boolean().optional(),
      /** Match `name` against any span of a trace, not only its root. */
      search_all_spans: z.boolean().optional(),
    }),
    output: z.looseObject({
      spans: z.array(storedSpan).default([]),
      total: z.number().int().nonnegative().optional(),
      offset: z.number().int().nonnegative().optional(),
      limit: z.number().int().nonnegative().optional(),
    }),
  }),
  tracesTree: contract({
    id: 'engine::traces::tree',
    description: 'Every span of one trace nested under its parent (a span whose parent was not stored is a root)',
    input: z.object({ trace_id: hexId }),
    output: z.looseObject({ roots: z.array(spanTreeNode).default([]) }),
  }),
  tracesGroupBy: contract({
    id: 'engine::traces::group_by',
    description: 'Traces grouped by the value of a span attribute (e.g. iii.session.id), newest group first',
    input: z.object({
      attribute: z.string().min(1),
      /** Only spans that started at or after this (ms since the epoch). */
      since_ms: z.number().int().nonnegative().optional(),
      limit: z.number().int().positive().optional(),
      include_internal: z.boolean().optional(),
      /** Each group's label: this attribute of its newest span carrying it. */
      label_attribute: z.string().min(1).optional(),
    }),
    output: z.looseObject({ groups: z.array(traceGroup).default([]) }),
  }),
  tracesClear: contract({
    id: 'engine::traces::clear',
    description: 'Delete every stored span',
    input: z.object({}),
    output: z.looseObject({ success: z.boolean() }),
  }),
  logsList: contract({
    id: 'engine::logs::list',
    description: 'Stored log records, newest first, optionally of one trace or span, by severity and time',
    input: z.object({
      trace_id: hexId.optional(),
      span_id: hexId.optional(),
      /** OpenTelemetry severity number (9 info, 13 warn, 17 error). */
      severity_min: z.number().int().optional(),
      severity_text: z.string().optional(),
      start_time: z.number().int().nonnegative().optional(),
      end_time: z.number().int().nonnegative().optional(),
      offset: z.number().int().nonnegative().optional(),
      limit: z.number().int().positive().optional(),
    }),
    output: z.looseObject({
      logs: z.array(storedLog).default([]),
      total: z.number().int().nonnegative().optional(),
    }),
  }),
  logsClear: contract({
    id: 'engine::logs::clear',
    description: 'Delete every stored log record',
    input: z.object({}),
    output: z.looseObject({ success: z.boolean() }),
  }),
  durablePublish: contract({
    id: 'iii::durable::publish',
    description: 'Publish on a durable topic: each subscriber gets it through a queue',
    input: z.object({ topic: z.string().min(1), data: z.unknown() }),
    output: z.unknown(),
  }),
};
