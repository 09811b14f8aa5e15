import type { Usage } from '@iii-harness/types';
import { z } from 'zod';

/**
 * The frames between the page and the console's server, on the page's one WebSocket (`/ws`).
 * The page never speaks the engine's protocol: it asks for a function by id, the server checks
 * the id against its allowlist and the payload against the function's contract, calls it, and
 * answers. Live pushes (agent events, session events, trace ids, engine state) come the other way.
 * The page imports these types only (`import type`), so zod never ships to the browser.
 */

/** Longest function id the server reads before refusing (it is logged, so it is kept short). */
export const MAX_FUNCTION_ID = 200;

/** Page → server. */
export const pageFrame = z.discriminatedUnion('t', [
  z
    .object({
      t: z.literal('call'),
      /** The page's request number; the reply carries it back. */
      id: z.number().int().nonnegative(),
      fn: z.string().min(1).max(MAX_FUNCTION_ID),
      payload: z.unknown().optional(),
    })
    .strict(),
  z
    .object({
      t: z.literal('follow'),
      /** The sessions whose every event this page wants (the one on screen); others get summaries. */
      session_ids: z.array(z.string().max(200)).max(16),
    })
    .strict(),
]);
export type PageFrame = z.output<typeof pageFrame>;

export interface WireError {
  code: string;
  message: string;
  reason?: string;
}

/** Which optional parts of the harness are running (the page hides or greys the rest). */
export interface Features {
  harness: boolean;
  session: boolean;
  approvals: boolean;
  models: boolean;
  auth: boolean;
  compaction: boolean;
  budgets: boolean;
  traces: boolean;
  logs: boolean;
}

/** Server → page. */
export type ServerFrame =
  | {
      t: 'hello';
      version: string;
      /** Function ids the page may call (the allowlist), so it can hide what it cannot do. */
      allow: string[];
      engine: EngineStatus;
      features: Features;
    }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: WireError }
  | { t: 'engine'; engine: EngineStatus }
  | { t: 'features'; features: Features }
  /** An `agent::events` item (any session when it is a summary type; all types for followed ones). */
  | { t: 'agent'; event: unknown }
  /** A `session::events` event (entry bodies only for followed sessions). */
  | { t: 'session'; event: unknown }
  /** Traces with new spans: the page re-reads what it shows. */
  | { t: 'traces'; trace_ids: string[] }
  /** A budget passed an alert threshold (llm-budget's `budget::alerts`). */
  | { t: 'budget_alert'; alert: unknown }
  /** A session's console title changed (null: removed). */
  | { t: 'title'; session_id: string; title: string | null };

export interface EngineStatus {
  connected: boolean;
  /** Bumped on every (re)connection: a page seeing a new epoch re-reads what it shows. */
  epoch: number;
  url: string;
}

/** What `console.providers` says about each provider. */
export type ProviderHealth = 'usable' | 'missing_key' | 'unreachable';

export interface ProviderStatus {
  id: string;
  display_name: string;
  kind: 'cloud' | 'local';
  credential_env_var?: string;
  supports_model_listing: boolean;
  /** Its worker is connected (its stream function is registered). */
  worker: boolean;
  /** null: the credential vault did not answer. */
  credential: { configured: boolean; source: string | null } | null;
  models: number;
  status: ProviderHealth;
  detail: string;
  last_refresh?: { ok: boolean; at: number; message?: string };
}

export interface TurnSummary {
  turn_id: string;
  provider?: string;
  model?: string;
  started_at?: number;
  first_seq: number;
  completed?: { status: string; reason?: string; usage: Usage; cost_usd?: number; at: number };
}
