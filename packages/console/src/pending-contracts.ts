import { contract } from '@iii-harness/types';
import { z } from 'zod';

/**
 * Stand-ins for contracts `@iii-harness/types` does not declare yet: the engine's observability
 * functions (the real iii engine's shapes, as its console reads them; the dev engine is getting
 * them in issue 18). Same ids and shapes as the engine documents; outputs read loosely. When they
 * land in `contracts`, `allowlist.ts` switches to them and this file goes.
 */

const nanos = z.union([z.number(), z.string()]);
const attributes = z.union([z.array(z.tuple([z.string(), z.unknown()])), z.record(z.string(), z.unknown())]);

export const storedSpan = z.looseObject({
  trace_id: z.string(),
  span_id: z.string(),
  parent_span_id: z.string().nullish(),
  name: z.string(),
  kind: z.unknown().optional(),
  start_time_unix_nano: nanos,
  end_time_unix_nano: nanos,
  status: z.unknown().optional(),
  attributes: attributes.optional(),
  events: z.array(z.looseObject({ name: z.string(), timestamp_unix_nano: nanos.optional() })).optional(),
  service_name: z.string().nullish(),
});

interface SpanNode extends z.infer<typeof storedSpan> {
  children?: SpanNode[];
}
const spanNode: z.ZodType<SpanNode> = z.lazy(() => storedSpan.extend({ children: z.array(spanNode).optional() }));

const traceFilters = z
  .object({
    trace_id: z.string().max(64).optional(),
    trace_ids: z.array(z.string().max(64)).max(500).optional(),
    service_name: z.string().max(200).optional(),
    name: z.string().max(300).optional(),
    status: z.string().max(20).optional(),
    attributes: z
      .array(z.tuple([z.string().max(200), z.string().max(500)]))
      .max(20)
      .optional(),
    sort_by: z.string().max(40).optional(),
    sort_order: z.enum(['asc', 'desc']).optional(),
    offset: z.number().int().nonnegative().optional(),
    limit: z.number().int().positive().max(1_000).optional(),
    include_internal: z.boolean().optional(),
    search_all_spans: z.boolean().optional(),
  })
  .strict();

export const traces = {
  list: contract({
    id: 'engine::traces::list',
    description: 'Stored spans (root spans unless search_all_spans), filtered, sorted and paged',
    input: traceFilters,
    output: z.looseObject({ spans: z.array(storedSpan).default([]), total: z.number().optional() }),
  }),
  tree: contract({
    id: 'engine::traces::tree',
    description: "One trace's spans as a tree",
    input: z.object({ trace_id: z.string().min(1).max(64) }).strict(),
    output: z.looseObject({ roots: z.array(spanNode).default([]) }),
  }),
  groupBy: contract({
    id: 'engine::traces::group_by',
    description: 'Traces grouped by an attribute (iii.session.id)',
    input: z
      .object({
        attribute: z.string().min(1).max(200),
        since_ms: z.number().int().nonnegative().optional(),
        limit: z.number().int().positive().max(1_000).optional(),
        include_internal: z.boolean().optional(),
        label_attribute: z.string().max(200).optional(),
      })
      .strict(),
    output: z.looseObject({
      groups: z
        .array(
          z.looseObject({
            value: z.string(),
            label: z.string().nullish(),
            trace_ids: z.array(z.string()),
            span_count: z.number().optional(),
            first_seen_ms: z.number().optional(),
            last_seen_ms: z.number().optional(),
            duration_ms: z.number().optional(),
            error_count: z.number().optional(),
          }),
        )
        .default([]),
    }),
  }),
  logs: contract({
    id: 'engine::logs::list',
    description: 'Stored log records, optionally of one trace or span',
    input: z
      .object({
        trace_id: z.string().max(64).optional(),
        span_id: z.string().max(64).optional(),
        start_time: z.number().optional(),
        end_time: z.number().optional(),
        severity_min: z.number().int().optional(),
        offset: z.number().int().nonnegative().optional(),
        limit: z.number().int().positive().max(1_000).optional(),
      })
      .strict(),
    output: z.looseObject({
      logs: z
        .array(
          z.looseObject({
            timestamp_unix_nano: nanos.optional(),
            severity_text: z.string().nullish(),
            severity_number: z.number().nullish(),
            body: z.unknown(),
            trace_id: z.string().nullish(),
            span_id: z.string().nullish(),
            attributes: attributes.nullish(),
            service_name: z.string().nullish(),
          }),
        )
        .default([]),
      total: z.number().optional(),
    }),
  }),
};
