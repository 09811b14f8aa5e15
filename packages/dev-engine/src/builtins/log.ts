/**
 * `engine::log::{info,warn,error,debug,trace}`: take an OTel-style log input (`message`,
 * `data?`, `trace_id?`, `span_id?`, `service_name?`), store it as an OTel log (like logs the
 * SDK sends) and write it to the engine's own log. They return no result.
 */
import type { EngineApi } from '../engine-api.js';
import { isPlainObject } from '../errors.js';
import type { StoredLog } from '../observability/otlp.js';

const LEVELS = [
  ['info', 'INFO', 9],
  ['warn', 'WARN', 13],
  ['error', 'ERROR', 17],
  ['debug', 'DEBUG', 5],
  ['trace', 'TRACE', 1],
] as const;

const text = (v: unknown) => (typeof v === 'string' ? v : null);

export function installLog(api: EngineApi, store: (log: StoredLog) => void = () => undefined): void {
  for (const [level, severityText, severityNumber] of LEVELS) {
    api.registerFunction({
      id: `engine::log::${level}`,
      description: `Log a message at ${level} level`,
      worker: 'iii-observability',
      handler: (data, ctx) => {
        const input: Record<string, unknown> = isPlainObject(data) ? data : { message: data };
        const message = typeof input.message === 'string' ? input.message : JSON.stringify(input.message ?? null);
        const now = Date.now() * 1_000_000;
        store({
          timestamp_unix_nano: now,
          observed_timestamp_unix_nano: now,
          severity_number: severityNumber,
          severity_text: severityText,
          body: message,
          attributes: isPlainObject(input.data) ? input.data : input.data === undefined ? {} : { data: input.data },
          trace_id: text(input.trace_id),
          span_id: text(input.span_id),
          resource: { 'service.name': 'iii' },
          service_name: text(input.service_name) ?? 'unknown',
        });
        if (!api.logger.isLevelEnabled(level)) return undefined;
        const { message: _m, _caller_worker_id: _c, ...rest } = input;
        api.logger[level]({ source: 'worker', worker_id: ctx.callerWorkerId, ...rest }, message);
        return undefined;
      },
    });
  }
}
