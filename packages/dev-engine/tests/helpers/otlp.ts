/** Hand-built OTLP JSON frames, shaped exactly like iii-sdk 0.22.1's exporter output. */
import WebSocket from 'ws';

const resource = (service: string) => ({
  attributes: [
    { key: 'service.name', value: { stringValue: service } },
    { key: 'telemetry.sdk.language', value: { stringValue: 'nodejs' } },
  ],
  droppedAttributesCount: 0,
});

export interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  durationMs?: number;
  attributes?: Record<string, string | number | boolean>;
  error?: string;
}

const attr = (key: string, v: string | number | boolean) => ({
  key,
  value: typeof v === 'string' ? { stringValue: v } : typeof v === 'number' ? { intValue: v } : { boolValue: v },
});

export function spansFrame(service: string, spans: SpanSpec[]): Buffer {
  const body = {
    resourceSpans: [
      {
        resource: resource(service),
        scopeSpans: [
          {
            scope: { name: service },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId && { parentSpanId: s.parentSpanId }),
              name: s.name,
              kind: 1,
              startTimeUnixNano: `${s.startMs}000000`,
              endTimeUnixNano: `${s.startMs + (s.durationMs ?? 1)}000000`,
              attributes: Object.entries(s.attributes ?? {}).map(([k, v]) => attr(k, v)),
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              status: s.error ? { code: 2, message: s.error } : { code: 1 },
              links: [],
              droppedLinksCount: 0,
            })),
          },
        ],
      },
    ],
  };
  return Buffer.concat([Buffer.from('OTLP'), Buffer.from(JSON.stringify(body))]);
}

export interface LogSpec {
  body: string;
  severityNumber: number;
  severityText: string;
  timeMs: number;
  traceId?: string;
  spanId?: string;
  attributes?: Record<string, string | number | boolean>;
}

export function logsFrame(service: string, logs: LogSpec[]): Buffer {
  const body = {
    resourceLogs: [
      {
        resource: resource(service),
        scopeLogs: [
          {
            scope: { name: service },
            logRecords: logs.map((l) => ({
              timeUnixNano: `${l.timeMs}000000`,
              observedTimeUnixNano: `${l.timeMs}000000`,
              severityNumber: l.severityNumber,
              severityText: l.severityText,
              body: { stringValue: l.body },
              attributes: Object.entries(l.attributes ?? {}).map(([k, v]) => attr(k, v)),
              droppedAttributesCount: 0,
              flags: 1,
              ...(l.traceId && { traceId: l.traceId }),
              ...(l.spanId && { spanId: l.spanId }),
            })),
          },
        ],
      },
    ],
  };
  return Buffer.concat([Buffer.from('LOGS'), Buffer.from(JSON.stringify(body))]);
}

export const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
export const traceId = (n: number) => hex(n, 32);
export const spanId = (n: number) => hex(n, 16);

/** The SDK's telemetry socket, opened by hand. */
export async function openOtel(engineUrl: string): Promise<WebSocket> {
  const ws = new WebSocket(`${engineUrl}/otel`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}
