import type { TraceCarrier } from '@iii-harness/types';
import {
  type Attributes,
  type Context,
  context,
  defaultTextMapSetter,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { InitOptions } from 'iii-sdk';
import { contextWithTurn, TURN_BAGGAGE, type TurnContext } from './context.js';

const TRACER = 'iii-harness';
let installed = false;

/**
 * iii-sdk installs a context manager and W3C propagators only when OpenTelemetry export is on.
 * Baggage (session, turn, message ids) must flow either way, so install them when nothing else did.
 * Registering is a no-op when the SDK already registered its own (the first registration wins).
 */
export function ensureContextPropagation(): void {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new RememberingPropagator());
}

/**
 * The W3C trace-context and baggage propagators, remembering what they wrote for each context. A
 * context never changes once made, and iii-sdk injects the active one twice for every call it
 * sends (once for `traceparent`, once for `baggage`) and twice more for every reply; a handler's
 * calls all share its context. Serialising the baggage each time was ~2 % of a turn's CPU.
 */
class RememberingPropagator implements TextMapPropagator {
  private readonly w3c = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  private readonly written = new WeakMap<Context, ReadonlyArray<readonly [string, string]>>();

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    let fields = this.written.get(ctx);
    if (!fields) {
      const headers: Record<string, string> = {};
      this.w3c.inject(ctx, headers, defaultTextMapSetter);
      fields = Object.entries(headers);
      this.written.set(ctx, fields);
    }
    for (const [key, value] of fields) setter.set(carrier, key, value);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.w3c.extract(ctx, carrier, getter);
  }

  fields(): string[] {
    return this.w3c.fields();
  }
}

/**
 * iii-sdk's telemetry settings for a worker (`registerWorker`'s `otel`): spans named after the
 * worker (`OTEL_SERVICE_NAME` wins), `OTEL_ENABLED` decides unless `enabled` is given. Two of the
 * SDK's defaults are turned off because they let data out: its fetch instrumentation sends the
 * turn's baggage (session, message ids) to every vendor in a `baggage` header and records full
 * URLs (`IIH_TRACE_FETCH=1` turns it back on), and its capture of every handler's input and output
 * (`III_DISABLE_TRACE_PAYLOADS`, redacted by key name only) — tool spans record arguments and
 * results instead, when `IIH_TRACE_PAYLOADS=1` (see trace-spans.ts).
 */
export function sdkTelemetry(worker: { name: string; version?: string; enabled?: boolean }): InitOptions['otel'] {
  process.env.III_DISABLE_TRACE_PAYLOADS ??= 'true';
  return {
    ...(worker.enabled !== undefined ? { enabled: worker.enabled } : {}),
    serviceName: process.env.OTEL_SERVICE_NAME || worker.name,
    ...(worker.version ? { serviceVersion: worker.version } : {}),
    fetchInstrumentationEnabled: process.env.IIH_TRACE_FETCH === '1',
  };
}

/** A span's attributes for a handled function of a turn: its id and the turn's ids. */
export function functionSpanAttributes(functionId: string, turn: TurnContext): Attributes {
  const attributes: Attributes = { 'iii.function.id': functionId };
  for (const [key, name] of Object.entries(TURN_BAGGAGE)) {
    const value = turn[key as keyof TurnContext];
    if (value) attributes[name] = value;
  }
  return attributes;
}

const errorCode = (error: unknown) => (error as { code?: string })?.code ?? 'error';

/** Mark a span failed with the error's code: never its message, which may quote what it failed on. */
function markFailed(span: Span, error: unknown): void {
  const code = errorCode(error);
  span.setAttributes({ 'iii.outcome': code, 'error.type': code });
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/**
 * Run `fn` inside a span named `name`; errors mark it (by code) and are rethrown unchanged. When
 * the active span is iii-sdk's `execute <name>` — the handler of that very function — it is used
 * instead of a child: one span per handled call, not two.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  const active = trace.getActiveSpan();
  if (active?.isRecording() && (active as { name?: unknown }).name === `execute ${name}`)
    return inSpan(active, attributes, fn, false);
  const parent = context.active();
  const span = trace.getTracer(TRACER).startSpan(name, { attributes }, parent);
  // No tracer installed (telemetry off): the span records nothing and names no span of its own
  // (the parent's, or none), so making it active would change nothing; skip that context switch.
  if (!span.isRecording() && namesNoNewSpan(span, parent)) return fn();
  return context.with(trace.setSpan(parent, span), () => inSpan(span, {}, fn, true));
}

function namesNoNewSpan(span: Span, parent: Context): boolean {
  const own = span.spanContext();
  return !trace.isSpanContextValid(own) || own === trace.getSpanContext(parent);
}

async function inSpan<T>(span: Span, attributes: Attributes, fn: () => Promise<T>, own: boolean): Promise<T> {
  span.setAttributes(attributes);
  try {
    const result = await fn();
    span.setAttribute('iii.outcome', 'ok');
    return result;
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    if (own) span.end();
  }
}

/** Set attributes on the active span (no-op without one, or when it is not recorded). */
export function annotateSpan(attributes: Attributes): void {
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.setAttributes(attributes);
}

/** Run `fn` with `turn`'s ids added to the baggage every call it makes carries on. */
export function withTurnBaggage<T>(turn: TurnContext, fn: () => Promise<T>): Promise<T> {
  return context.with(contextWithTurn(turn), fn);
}

/** The active span's trace context, to keep with work that continues later (see TraceCarrier). */
export function captureTrace(): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  return { traceparent: carrier.traceparent, ...(carrier.baggage ? { baggage: carrier.baggage } : {}) };
}

/** The context a carrier names (its span as parent, its baggage), nothing of the current one. */
const contextOf = (carrier: TraceCarrier) => propagation.extract(ROOT_CONTEXT, carrier);

/**
 * Run `fn` in the trace of `carrier` — as if called from the span it names, with its baggage —
 * so whatever `fn` triggers continues that trace. Without a carrier, `fn` runs where it is.
 */
export function withTrace<T>(carrier: TraceCarrier | undefined, fn: () => Promise<T>): Promise<T> {
  return carrier ? context.with(contextOf(carrier), fn) : fn();
}

/** What code running inside a span may do with it. */
export interface SpanHandle {
  annotate(attributes: Attributes): void;
  /** Mark the span failed with a code (never a message: it may quote what it failed on). */
  fail(code: string): void;
  /** Something that happened at this moment within the span. */
  event(name: string, attributes?: Attributes): void;
}

const handleOf = (span: Span): SpanHandle => ({
  annotate: (attributes) => span.setAttributes(attributes),
  fail: (code) => markFailed(span, { code }),
  event: (name, attributes) => span.addEvent(name, attributes),
});

export interface SpanSpec {
  name: string;
  attributes?: Attributes;
  /** `client` for a request to another system (a vendor's API); `internal` by default. */
  kind?: 'internal' | 'client';
  /** When the work began (ms since the epoch), if before now. */
  startTime?: number;
}

/**
 * Run `fn` in a new child span of the current one; a throw marks it failed (by code), `fn` may
 * mark it failed itself without throwing (a request that ended in an error event).
 */
export function inChildSpan<T>(spec: SpanSpec, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
  return runSpan(spec, context.active(), [], fn);
}

/**
 * A span that resumes stored work in its own trace: its parent is the span `carrier` names (work
 * held across a wait, a restart), it may start in the past (`startTime`), and it links to the span
 * running now — whoever resumed it (a person's decision, a sweep) — so either trace leads to the
 * other. `fn` runs inside it, so what it triggers continues the stored trace. Without a carrier it
 * is a child of the current span.
 */
export function resumeTrace<T>(
  carrier: TraceCarrier | undefined,
  spec: SpanSpec,
  fn: (span: SpanHandle) => Promise<T>,
): Promise<T> {
  if (!carrier) return inChildSpan(spec, fn);
  const current = trace.getActiveSpan()?.spanContext();
  const links: Link[] =
    current && trace.isSpanContextValid(current)
      ? [{ context: current, attributes: { 'iii.link': 'resumed_by' } }]
      : [];
  return runSpan(spec, contextOf(carrier), links, fn);
}

function runSpan<T>(spec: SpanSpec, parent: Context, links: Link[], fn: (span: SpanHandle) => Promise<T>): Promise<T> {
  const kind = spec.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL;
  const options = { attributes: spec.attributes, kind, startTime: spec.startTime, links };
  const span = trace.getTracer(TRACER).startSpan(spec.name, options, parent);
  // As in withSpan: with telemetry off, activating the span would leave the context as it is.
  if (!span.isRecording() && namesNoNewSpan(span, parent) && parent === context.active()) return fn(handleOf(span));
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(handleOf(span));
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
