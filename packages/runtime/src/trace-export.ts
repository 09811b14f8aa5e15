import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The collector's address, when one is configured (OpenTelemetry's standard variables). */
export function collectorEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_TRACES_EXPORTER?.split(',').includes('none')) return undefined;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
}

interface ProcessorHost {
  addSpanProcessor(processor: SpanProcessor): void;
}

const exporting = new WeakSet<object>();

/**
 * Send this process's spans to an OpenTelemetry collector as well as to the engine, when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: the same spans,
 * over OTLP/HTTP (JSON), with the exporter's standard settings (`OTEL_EXPORTER_OTLP_HEADERS`,
 * `_TIMEOUT`, `_COMPRESSION`). iii-sdk exports only to the engine; this adds a second processor to
 * the tracer provider it registered. Returns whether spans now go to the collector.
 */
export function exportToCollector(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!collectorEndpoint(env)) return false;
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (global.getDelegate?.() ?? global) as Partial<ProcessorHost> & object;
  // No SDK provider (telemetry off) or an OpenTelemetry without the method: nothing to add to.
  if (typeof provider.addSpanProcessor !== 'function') return false;
  if (exporting.has(provider)) return true;
  exporting.add(provider);
  provider.addSpanProcessor(new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 }));
  return true;
}
