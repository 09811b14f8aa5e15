import { httpUrl, providerDeclaration, providerId } from '@iii-harness/types';
import { z } from 'zod';

/** Operator overrides of what a provider declared. */
const providerOverride = z
  .object({ api_url: httpUrl.optional(), max_tokens: providerDeclaration.shape.default_max_tokens.optional() })
  .strict();

export const configSchema = z
  .object({
    /** The permission rules file (YAML); relative paths are resolved from the working directory. */
    permissions_path: z.string().min(1).default('./iii-permissions.yaml'),
    /** Quiet period after a change of the rules file before it is looked at. */
    reload_debounce_ms: z.number().int().min(0).max(60_000).default(200),
    /** The rules file must stay unchanged (size, mtime, inode) this long across a read before it is loaded. */
    reload_settle_ms: z.number().int().min(0).max(60_000).default(250),
    /** Interval of the stat check that catches changes the file watcher misses. */
    reload_poll_ms: z.number().int().min(50).max(600_000).default(2_000),
    /** Strings longer than this are never run through a rule's `matches` regex (see README). */
    max_match_length: z.number().int().min(16).max(1_048_576).default(4_096),
    /** More state scopes / stream names the kernel deny list protects from writes (globs). Adds, never removes. */
    protected_storage: z.array(z.string().min(1)).default([]),
    /** Per-provider overrides of the declared defaults. */
    providers: z.record(providerId, providerOverride).default({}),
    /** How long `harness::provider::resolve` waits for `auth::get_token`. */
    auth_timeout_ms: z.number().int().positive().max(60_000).default(3_000),
    /** Engine state scope of provider declarations (one key per provider). */
    providers_scope: z.string().min(1).default('harness_providers'),
    /** Engine state scope of UI subscriptions (one key per client). */
    ui_scope: z.string().min(1).default('harness_ui_subscriptions'),
    /** The stream whose items are fanned out to subscribed clients. */
    agent_events_stream: z.string().min(1).default('agent::events'),
    /** How long a push to a client's `ui::session::event::<client_id>` may take. */
    ui_push_timeout_ms: z.number().int().positive().max(60_000).default(2_000),
    /** Pushes waiting per client; beyond this, new events for that client are dropped (and logged). */
    ui_max_pending: z.number().int().positive().max(1_000_000).default(1_000),
    /** Pub/sub topic on which the copies of the harness (one per engine) relay agent events and subscription changes. */
    ui_relay_topic: z.string().min(1).default('harness::ui::relay'),
    /** How often this copy re-reads the subscriptions and asks its engine which UI clients are here. */
    ui_refresh_ms: z.number().int().min(100).max(3_600_000).default(10_000),
    /** A client no copy has found on its engine for this long is forgotten (its subscriptions deleted). */
    ui_client_ttl_ms: z
      .number()
      .int()
      .min(1_000)
      .max(30 * 24 * 3_600_000)
      .default(600_000),
    /** Seconds-first cron of the sweep of forgotten UI clients (one copy per scheduled run). */
    ui_sweep_cron: z.string().min(1).default('30 * * * * *'),
    /** Provider and model of a `harness::send` that names none. */
    default_provider: providerId.optional(),
    default_model: z.string().min(1).optional(),
    /** How long a `harness::send` waits for another send with its idempotency key to finish. */
    send_wait_ms: z.number().int().min(0).max(300_000).default(15_000),
    /**
     * How long a `harness::send` waits for a turn while another start holds the session. Longer
     * than the orchestrator's `start_claim_ms` (10 s), the life of a claim whose start died.
     */
    start_wait_ms: z.number().int().min(0).max(300_000).default(12_000),
    /** Engine state scope remembering the answer to each idempotency key of `harness::send`. */
    sends_scope: z.string().min(1).default('harness_sends'),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_PERMISSIONS_PATH: 'permissions_path',
  IIH_PERMISSIONS_RELOAD_DEBOUNCE_MS: 'reload_debounce_ms',
  IIH_PERMISSIONS_RELOAD_SETTLE_MS: 'reload_settle_ms',
  IIH_PERMISSIONS_POLL_MS: 'reload_poll_ms',
  IIH_HARNESS_AUTH_TIMEOUT_MS: 'auth_timeout_ms',
  IIH_HARNESS_UI_PUSH_TIMEOUT_MS: 'ui_push_timeout_ms',
  IIH_DEFAULT_PROVIDER: 'default_provider',
  IIH_DEFAULT_MODEL: 'default_model',
};
