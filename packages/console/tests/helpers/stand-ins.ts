import type { WorkerSpec } from '@iii-harness/runtime';
import { type AgentEvent, contract } from '@iii-harness/types';
import { z } from 'zod';

/**
 * A stand-in for the engine's observability functions (`engine::traces::*`, `engine::logs::list`,
 * the `trace` trigger type), which the dev engine gets with issue 18. It answers in the shapes the
 * real iii engine's observability worker documents, so the console's Traces screen is tested now;
 * the tests move to the dev engine when it serves them.
 */

const anything = (id: string) =>
  contract({ id, description: `stand-in ${id}`, input: z.unknown(), output: z.unknown() });

interface Span {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  start_time_unix_nano: number;
  end_time_unix_nano: number;
  status: string;
  attributes: Array<[string, unknown]>;
  service_name: string;
  events: Array<{ name: string; timestamp_unix_nano: number; attributes: unknown[] }>;
  children?: Span[];
}

const ms = 1_000_000;

/**
 * The spans a real turn would produce, built from its agent events: `harness::send` at the root,
 * the turn's steps under it, the provider stream and each function call under their steps.
 */
export function spansOfTurn(sessionId: string, events: AgentEvent[], traceId: string): Span[] {
  const turnId = events[0]!.turn_id;
  const t0 = events[0]!.timestamp * ms;
  const end = events.at(-1)!.timestamp * ms + 3 * ms;
  const attrs = (functionId: string): Array<[string, unknown]> => [
    ['iii.session.id', sessionId],
    ['iii.function.id', functionId],
    ['iii.turn.id', turnId],
  ];
  let n = 0;
  const span = (
    name: string,
    parent: string | undefined,
    start: number,
    stop: number,
    service: string,
    status = 'ok',
  ): Span => ({
    trace_id: traceId,
    span_id: `${traceId.slice(0, 8)}${String(++n).padStart(8, '0')}`,
    ...(parent ? { parent_span_id: parent } : {}),
    name,
    start_time_unix_nano: start,
    end_time_unix_nano: Math.max(stop, start + ms / 2),
    status,
    attributes: attrs(name),
    service_name: service,
    events: [],
  });
  const root = span('harness::send', undefined, t0 - 4 * ms, end, 'harness');
  const run = span('run::start', root.span_id, t0 - 3 * ms, t0 - ms, 'turn-orchestrator');
  const spans: Span[] = [root, run];
  const stream = span('turn::assistant_streaming', root.span_id, t0, end - 2 * ms, 'turn-orchestrator');
  spans.push(stream, span('provider::scripted::stream', stream.span_id, t0 + ms, end - 3 * ms, 'provider-scripted'));
  for (const e of events)
    if (e.type === 'function_execution_start') {
      const done = events.find((x) => x.type === 'function_execution_end' && x.function_call_id === e.function_call_id);
      const step = span(
        'turn::function_execute',
        root.span_id,
        e.timestamp * ms - ms,
        (done?.timestamp ?? e.timestamp) * ms + ms,
        'turn-orchestrator',
      );
      spans.push(
        step,
        span(
          e.function_id,
          step.span_id,
          e.timestamp * ms,
          (done?.timestamp ?? e.timestamp) * ms,
          'tools',
          done && done.type === 'function_execution_end' && done.is_error ? 'error' : 'ok',
        ),
      );
    }
  return spans;
}

function treeOf(spans: Span[]): Span[] {
  const byId = new Map(spans.map((s) => [s.span_id, { ...s, children: [] as Span[] }]));
  const roots: Span[] = [];
  for (const s of byId.values()) {
    const parent = s.parent_span_id ? byId.get(s.parent_span_id) : undefined;
    if (parent) parent.children!.push(s);
    else roots.push(s);
  }
  return roots;
}

export interface Observability {
  spec: WorkerSpec<unknown>;
  add(spans: Span[]): void;
  /** Fire the `trace` trigger as the engine does when new spans arrive. */
  notify(traceIds: string[]): Promise<void>;
}

/** `engine::traces::list|tree|group_by`, `engine::logs::list` and the `trace` trigger type. */
export function observabilityStandIn(): Observability {
  const spans: Span[] = [];
  const bindings = new Map<string, string>();
  let worker: Parameters<WorkerSpec<unknown>['register']>[0] | undefined;
  const attr = (s: Span, key: string) => s.attributes.find(([k]) => k === key)?.[1];
  return {
    add: (more) => spans.push(...more),
    async notify(traceIds) {
      for (const functionId of bindings.values())
        await worker!.bus.invoke(functionId, { trace_ids: traceIds }).catch(() => undefined);
    },
    spec: {
      name: 'observability-stand-in',
      description: "stand-in for the engine's observability functions",
      config: z.object({}),
      register(w) {
        worker = w;
        w.function(anything('engine::traces::list'), (input) => {
          const q = (input ?? {}) as {
            trace_ids?: string[];
            attributes?: Array<[string, string]>;
            search_all_spans?: boolean;
          };
          const found = spans.filter(
            (s) =>
              (q.search_all_spans || !s.parent_span_id) &&
              (!q.trace_ids || q.trace_ids.includes(s.trace_id)) &&
              (q.attributes ?? []).every(([k, v]) => attr(s, k) === v),
          );
          return { spans: found, total: found.length, offset: 0, limit: 500, storage: 'memory' };
        });
        w.function(anything('engine::traces::tree'), (input) => ({
          roots: treeOf(spans.filter((s) => s.trace_id === (input as { trace_id: string }).trace_id)),
        }));
        w.function(anything('engine::traces::group_by'), () => {
          const groups = new Map<string, Span[]>();
          for (const s of spans) {
            const value = attr(s, 'iii.session.id');
            if (typeof value === 'string') groups.set(value, [...(groups.get(value) ?? []), s]);
          }
          return {
            groups: [...groups.entries()].map(([value, list]) => ({
              value,
              trace_ids: [...new Set(list.map((s) => s.trace_id))],
              span_count: list.length,
              first_seen_ms: Math.min(...list.map((s) => s.start_time_unix_nano / ms)),
              last_seen_ms: Math.max(...list.map((s) => s.end_time_unix_nano / ms)),
              duration_ms: 0,
              error_count: list.filter((s) => s.status === 'error').length,
            })),
          };
        });
        w.function(anything('engine::logs::list'), (input) => {
          const q = input as { trace_id?: string; span_id?: string };
          const span = spans.find((s) => s.span_id === q.span_id);
          return {
            logs: span
              ? [
                  {
                    timestamp_unix_nano: span.start_time_unix_nano,
                    observed_timestamp_unix_nano: span.start_time_unix_nano,
                    trace_id: span.trace_id,
                    span_id: span.span_id,
                    severity_number: 9,
                    severity_text: 'INFO',
                    body: `handled ${span.name}`,
                    attributes: {},
                    resource: {},
                    service_name: span.service_name,
                  },
                ]
              : [],
            total: span ? 1 : 0,
            timestamp: Date.now(),
          };
        });
        w.client.registerTriggerType(
          { id: 'trace', description: 'stand-in: new spans stored' },
          {
            async registerTrigger({ id, function_id }) {
              bindings.set(id, function_id);
            },
            async unregisterTrigger({ id }) {
              bindings.delete(id);
            },
          },
        );
      },
    },
  };
}
