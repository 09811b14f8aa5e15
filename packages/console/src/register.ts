import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import {
  AGENT_EVENTS_STREAM,
  agentEvent,
  BUDGET_ALERTS_STREAM,
  budgetAlertEvent,
  type ConsoleStatus,
  contracts,
  SESSION_EVENTS_STREAM,
  type StreamTriggerEvent,
  sessionEvent,
} from '@iii-harness/types';
import { type Config, configSchema } from './config.js';
import type { EngineLink } from './engine-link.js';
import type { LiveHub } from './live.js';

export interface BusDeps {
  /** This console's id: part of its push function ids, so two consoles never share one. */
  instance: string;
  hub: LiveHub;
  link: EngineLink;
  status(): ConsoleStatus;
}

/** The item a stream trigger delivers: a stored item's data, or a custom event's. */
const payloadOf = (trigger: StreamTriggerEvent): unknown =>
  trigger.event.type === 'delete'
    ? undefined
    : trigger.event.type === 'event'
      ? trigger.event.event?.data
      : trigger.event.data;

/**
 * The console's whole bus surface: `console::status`, and the live pushes it forwards to open
 * pages — every `agent::events` item, `session::events` event and `budget::alerts` item (stream
 * triggers), the engine's
 * `trace` trigger (parked by the engine until a worker provides that type), and the catalog
 * triggers that tell which harness workers are up. Items that do not parse are dropped.
 */
export function register(worker: Worker<Config>, deps: BusDeps): void {
  const { instance, hub, link } = deps;
  worker.function(contracts.console.status, () => deps.status());

  const agent = contracts.console.agentEvents(instance);
  worker.function(agent, (trigger) => {
    const parsed = agentEvent.safeParse(payloadOf(trigger));
    if (parsed.success) hub.agentEvent(parsed.data);
    return { accepted: parsed.success };
  });
  worker.trigger({ type: 'stream', function_id: agent.id, config: { stream_name: AGENT_EVENTS_STREAM } });

  const session = contracts.console.sessionEvents(instance);
  worker.function(session, (trigger) => {
    const parsed = sessionEvent.safeParse(payloadOf(trigger));
    if (parsed.success) hub.sessionEvent(parsed.data);
    return { accepted: parsed.success };
  });
  worker.trigger({ type: 'stream', function_id: session.id, config: { stream_name: SESSION_EVENTS_STREAM } });

  const alerts = contracts.console.budgetAlerts(instance);
  worker.function(alerts, (trigger) => {
    const parsed = budgetAlertEvent.safeParse(payloadOf(trigger));
    if (parsed.success) hub.broadcast({ t: 'budget_alert', alert: parsed.data });
    return { accepted: parsed.success };
  });
  worker.trigger({ type: 'stream', function_id: alerts.id, config: { stream_name: BUDGET_ALERTS_STREAM } });

  const traces = contracts.console.traces(instance);
  worker.function(traces, ({ trace_ids }) => {
    hub.broadcast({ t: 'traces', trace_ids });
    return { accepted: true };
  });
  worker.trigger({ type: 'trace', function_id: traces.id, config: {} });

  const workers = contracts.console.workers(instance);
  worker.function(workers, () => {
    link.refreshFeatures();
    return { accepted: true };
  });
  worker.trigger({ type: 'engine::workers-available', function_id: workers.id, config: {} });
  worker.trigger({ type: 'engine::functions-available', function_id: workers.id, config: {} });
}

export const consoleWorker = (deps: BusDeps): WorkerSpec<Config> => ({
  name: 'console',
  bin: 'iii-harness-console',
  description: 'The web console: chat, approvals, models, traces and budgets in a browser',
  config: configSchema,
  register: (worker) => register(worker, deps),
});
