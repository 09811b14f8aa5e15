import { z } from 'zod';
import { contract, contractFamily } from '../contract.js';
import { streamTriggerEvent } from './harness.js';

/**
 * The `console` worker: the web console's server. It serves `console::status` (how to reach the
 * page, never the access token) and, per running console instance, the functions its triggers
 * deliver to (the live pushes it forwards to open pages). Everything else the page does goes
 * through the functions of other workers, on an allowlist the console enforces.
 */

export const consoleStatus = z.object({
  /** Where a browser opens the console (without the token). */
  url: z.string(),
  host: z.string(),
  port: z.number().int().nonnegative(),
  /** Whether the page asks for the access token printed at start (always when bound off loopback). */
  token_required: z.boolean(),
  /** Pages connected right now. */
  pages: z.number().int().nonnegative(),
  version: z.string().optional(),
});
export type ConsoleStatus = z.output<typeof consoleStatus>;

/** What the engine's `trace` trigger delivers: ids of traces with new spans (coalesced). */
export const traceTriggerEvent = z.looseObject({ trace_ids: z.array(z.string()).default([]) });

/** The console instance's id is part of its push function ids, so two consoles never share one. */
const pushId = (kind: string) => (instance: string) => `console::${instance}::${kind}`;
const pushed = z.object({ accepted: z.boolean() });

export const webConsole = {
  status: contract({
    id: 'console::status',
    description: "The web console's address, whether it needs its access token, and how many pages are open",
    input: z.object({}).strict(),
    output: consoleStatus,
  }),
  agentEvents: contractFamily(pushId('agent_events'), {
    description: 'Internal: stream trigger on agent::events; forwards each event to the open pages',
    input: streamTriggerEvent,
    output: pushed,
    metadata: { internal: true },
  }),
  sessionEvents: contractFamily(pushId('session_events'), {
    description: 'Internal: stream trigger on session::events; forwards each event to the open pages',
    input: streamTriggerEvent,
    output: pushed,
    metadata: { internal: true },
  }),
  traces: contractFamily(pushId('traces'), {
    description: "Internal: the engine's trace trigger; tells the open pages which traces changed",
    input: traceTriggerEvent,
    output: pushed,
    metadata: { internal: true },
  }),
  budgetAlerts: contractFamily(pushId('budget_alerts'), {
    description: 'Internal: stream trigger on budget::alerts; tells the open pages a budget passed a threshold',
    input: streamTriggerEvent,
    output: pushed,
    metadata: { internal: true },
  }),
  workers: contractFamily(pushId('workers'), {
    description: 'Internal: engine::workers-available; the pages learn which harness workers are up',
    input: z.looseObject({}),
    output: pushed,
    metadata: { internal: true },
  }),
};
