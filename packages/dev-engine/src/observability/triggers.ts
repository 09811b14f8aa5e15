/**
 * The observability trigger types.
 * - `trace` (config `{service_name?, status?}`, matched case-insensitively): once per 300 ms
 *   window with new spans, each binding gets `{trace_ids}` — the distinct traces of the window
 *   that pass its filter. Engine-internal spans, spans of `engine::*` functions and spans produced
 *   by delivering a `trace` binding (`execute <its function>`) never open a window, so a handler
 *   that reads traces cannot keep itself busy. An idle engine sends nothing.
 * - `log` (config `{level?}`, default `all`): every stored log whose lowercased severity text
 *   equals `level` (or any log for `all`) is delivered as the stored log.
 * Deliveries are fire-and-forget, with the trigger's metadata; handler errors are only logged.
 */
import type { EngineApi, TriggerBinding } from '../engine-api.js';
import { isPlainObject } from '../errors.js';
import type { StoredLog, StoredSpan } from './otlp.js';
import { isInternalSpan } from './store.js';

const TRACE_COALESCE_MS = 300;

function configString(config: unknown, key: string): string | undefined {
  return isPlainObject(config) && typeof config[key] === 'string' ? (config[key] as string) : undefined;
}

export class TraceTrigger {
  private readonly bindings = new Map<string, TriggerBinding>();
  private window: StoredSpan[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly api: EngineApi) {
    api.registerTriggerType('trace', 'Span/trace event trigger', {
      worker: 'iii-observability',
      registerTrigger: (b) => void this.bindings.set(b.id, b),
      unregisterTrigger: (b) => void this.bindings.delete(b.id),
    });
    api.onClose(() => clearTimeout(this.timer));
  }

  /** New spans were stored. */
  observe(spans: StoredSpan[]): void {
    if (this.bindings.size === 0) return;
    const deliveredTo = new Set([...this.bindings.values()].map((b) => b.function_id));
    for (const span of spans) if (this.opensWindow(span, deliveredTo)) this.window.push(span);
    if (this.window.length > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => this.fire(), TRACE_COALESCE_MS);
      this.timer.unref();
    }
  }

  private opensWindow(span: StoredSpan, deliveredTo: Set<string>): boolean {
    if (isInternalSpan(span)) return false;
    const fn =
      span.attributes.find(([k]) => k === 'function_id')?.[1] ??
      (span.name.startsWith('execute ') ? span.name.slice(8) : span.name.startsWith('call ') ? span.name.slice(5) : '');
    return !(fn.startsWith('engine::') || deliveredTo.has(fn));
  }

  private fire(): void {
    this.timer = undefined;
    const batch = this.window;
    this.window = [];
    for (const b of this.bindings.values()) {
      const service = configString(b.config, 'service_name')?.toLowerCase();
      const status = configString(b.config, 'status')?.toLowerCase();
      const ids = new Set<string>();
      for (const s of batch)
        if (
          (service === undefined || s.service_name.toLowerCase() === service) &&
          (status === undefined || s.status === status)
        )
          ids.add(s.trace_id);
      if (ids.size === 0) continue;
      this.api
        .call(b.function_id, { trace_ids: [...ids].sort() }, { metadata: b.metadata })
        .catch((error) =>
          this.api.logger.debug({ err: error, function_id: b.function_id }, 'trace trigger delivery failed'),
        );
    }
  }
}

export class LogTrigger {
  private readonly bindings = new Map<string, TriggerBinding>();

  constructor(private readonly api: EngineApi) {
    api.registerTriggerType('log', 'Log event trigger', {
      worker: 'iii-observability',
      registerTrigger: (b) => void this.bindings.set(b.id, b),
      unregisterTrigger: (b) => void this.bindings.delete(b.id),
    });
  }

  observe(logs: StoredLog[]): void {
    if (this.bindings.size === 0) return;
    for (const log of logs) {
      const level = log.severity_text.toLowerCase();
      for (const b of this.bindings.values()) {
        const wanted = configString(b.config, 'level') ?? 'all';
        if (wanted !== 'all' && wanted !== level) continue;
        this.api
          .call(b.function_id, log, { metadata: b.metadata })
          .catch((error) =>
            this.api.logger.debug({ err: error, function_id: b.function_id }, 'log trigger delivery failed'),
          );
      }
    }
  }
}
