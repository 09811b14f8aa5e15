import { type Attributes, context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

const TRACER = 'iii-harness';
let installed = false;

/**
 * iii-sdk installs a context manager and W3C propagators only when OpenTelemetry export is on.
 * Baggage (session_id / turn_id) must flow either way, so install them when nothing else did.
 * Registering is a no-op when the SDK already registered its own (the first registration wins).
 */
export function ensureContextPropagation(): void {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
}

/** Run `fn` inside an active span; errors mark the span and are rethrown unchanged. */
export async function withSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as { code?: string })?.code ?? 'error' });
      throw error;
    } finally {
      span.end();
    }
  });
}
