import { z } from 'zod';
import { contract, contractFamily } from '../contract.js';
import { userMessage } from '../messages.js';
import { policyDecision } from '../policy.js';
import { providerDeclaration, providerId, resolvedProvider } from '../provider.js';
import { sessionId } from '../session.js';
import { turnView } from '../turn.js';

/**
 * The `harness` worker: the front door (`harness::send|status|stop`), the provider registry
 * (`harness::provider::*`), the permission policy (`policy::*`) and the UI fan-out (`ui::*`).
 */

export const sendInput = z
  .object({
    session_id: sessionId.optional(),
    text: z.string().min(1).max(1_000_000).optional(),
    message: userMessage.optional(),
    provider: providerId.optional(),
    model: z.string().min(1).optional(),
    /** A redelivered send with the same key is answered from the first one and changes nothing. */
    idempotency_key: z.string().min(1).max(200).optional(),
    system_prompt: z.string().max(200_000).optional(),
    max_turns: z.number().int().positive().max(1_000).optional(),
    functions: z.array(z.string().min(1)).max(500).optional(),
  })
  .strict()
  .refine((input) => (input.text === undefined) !== (input.message === undefined), {
    message: 'give exactly one of text or message',
    path: ['text'],
  });
export type SendInput = z.output<typeof sendInput>;

export const sendOutput = z.object({ session_id: sessionId, turn_id: z.string().min(1), merged: z.boolean() });
export type SendOutput = z.output<typeof sendOutput>;

/** A declaration as the registry keeps it. */
export const registeredProvider = providerDeclaration.extend({ registered_at: z.number().int() });
export type RegisteredProvider = z.output<typeof registeredProvider>;

/** A UI client's id becomes part of a function id (`ui::session::event::<client_id>`), so it is kept plain. */
export const uiClientId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a client_id is 1-128 letters, digits, "_", "." or "-"');

/** A client's follow list: every session (`all`) and/or named sessions. */
export const uiSubscriptionView = z.object({ all: z.boolean(), session_ids: z.array(z.string()) });
export type UiSubscriptionView = z.output<typeof uiSubscriptionView>;
const subscriptionResult = z.object({ ok: z.literal(true), subscriptions: uiSubscriptionView });

/** What the engine's `stream` trigger delivers (camelCase, as the engine sends it). */
export const streamTriggerEvent = z.looseObject({
  type: z.literal('stream'),
  streamName: z.string(),
  groupId: z.string(),
  id: z.string().nullish(),
  event: z.looseObject({
    type: z.enum(['create', 'update', 'delete', 'event']),
    data: z.unknown().optional(),
    event: z.looseObject({ type: z.string(), data: z.unknown().optional() }).optional(),
  }),
});
export type StreamTriggerEvent = z.output<typeof streamTriggerEvent>;

/**
 * What the copies of the harness (one per engine) tell each other on the UI relay topic: an agent
 * event some of whose followers are clients of other engines, or that a client's subscriptions
 * changed (re-read them).
 */
export const uiRelayMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), origin: z.string(), session_id: z.string(), event: z.unknown() }),
  z.object({ kind: z.literal('subscription'), origin: z.string(), client_id: uiClientId }),
]);
export type UiRelayMessage = z.output<typeof uiRelayMessage>;

/** The function each UI client serves to receive the agent events of the sessions it follows. */
export const uiPushFunctionId = (clientId: string) => `ui::session::event::${clientId}`;

export const harness = {
  send: contract({
    id: 'harness::send',
    description:
      'Send a user message: starts a turn, or merges into the live turn of the session (steering inbox); idempotent with idempotency_key',
    input: sendInput,
    output: sendOutput,
  }),
  status: contract({
    id: 'harness::status',
    description: "A session's turn (state, pending approvals, usage) and whether it is live",
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ session_id: sessionId, live: z.boolean(), turn: turnView.optional() }),
  }),
  stop: contract({
    id: 'harness::stop',
    description:
      'Stop the live turn of a session (run::abort): the provider stream is cut, held calls are resolved as aborted',
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ stopped: z.boolean(), turn_id: z.string().optional() }),
  }),
  providerRegister: contract({
    id: 'harness::provider::register',
    description:
      'Declare a provider (id, display name, credential env var, default URL and max tokens, model listing); replaces an earlier declaration',
    input: providerDeclaration,
    output: z.object({ ok: z.literal(true), id: providerId }),
  }),
  providerList: contract({
    id: 'harness::provider::list',
    description: 'Every registered provider by id, with its effective URL and max tokens (never a credential)',
    input: z.object({}).strict(),
    output: z.object({
      providers: z.array(registeredProvider.extend({ api_url: z.string(), max_tokens: z.number().int() })),
    }),
  }),
  providerResolve: contract({
    id: 'harness::provider::resolve',
    description:
      'What a caller needs to reach a provider: effective URL and max tokens (declaration + config overrides) and its credential from auth-credentials',
    input: z.object({ provider: providerId }).strict(),
    output: resolvedProvider,
  }),
  uiFanout: contract({
    id: 'harness::ui::fanout',
    description: 'Internal: stream trigger on agent::events; queues the item for every client following its session',
    input: streamTriggerEvent,
    output: z.object({ accepted: z.boolean() }),
    metadata: { internal: true },
  }),
  uiRelay: contract({
    id: 'harness::ui::relay',
    description:
      'Internal: pub/sub subscriber of the UI relay topic; pushes relayed agent events to the clients of this engine, re-reads changed subscriptions',
    input: uiRelayMessage,
    output: z.object({ accepted: z.boolean() }),
    metadata: { internal: true },
  }),
  uiSweep: contract({
    id: 'harness::ui::sweep',
    description:
      'Internal: forget UI clients no copy of the harness has seen for ui_client_ttl_ms (cron; one copy per scheduled run)',
    input: z.looseObject({}),
    output: z.object({ removed: z.number().int().nonnegative(), skipped: z.boolean().optional() }),
    metadata: { internal: true },
  }),
};

export const policy = {
  checkPermissions: contract({
    id: 'policy::check_permissions',
    description:
      'Decide whether an agent may call a function with these arguments: allow, deny or needs_approval (kernel deny list, then the YAML rules)',
    input: z
      .object({
        function_id: z.string().min(1).max(1024),
        /** The call's arguments, any JSON: never trusted, never logged. */
        args: z.unknown().optional(),
        /**
         * The session of the agent asking. Functions that read one session are safe for an agent
         * only on its own session; without this, they are denied.
         */
        session_id: sessionId.optional(),
      })
      .strict(),
    output: policyDecision,
  }),
  checkBatch: contract({
    id: 'policy::check_batch',
    description:
      'policy::check_permissions for the calls of one batch in one round trip: the decisions in the order of the calls',
    input: z
      .object({
        calls: z
          .array(
            z
              .object({
                function_id: z.string().min(1).max(1024),
                /** The call's arguments, any JSON: never trusted, never logged. */
                args: z.unknown().optional(),
              })
              .strict(),
          )
          .min(1)
          .max(256),
        /** The session of the agent asking (as for policy::check_permissions). */
        session_id: sessionId.optional(),
      })
      .strict(),
    output: z.object({ decisions: z.array(policyDecision) }),
  }),
};

export const ui = {
  subscribe: contract({
    id: 'ui::subscribe',
    description:
      "Follow a session's agent events (session_id null = every session); they are pushed to the client's ui::session::event::<client_id>",
    input: z.object({ client_id: uiClientId, session_id: sessionId.nullable() }).strict(),
    output: subscriptionResult,
  }),
  unsubscribe: contract({
    id: 'ui::unsubscribe',
    description: 'Stop following a session (session_id null = the "every session" subscription; omitted = everything)',
    input: z.object({ client_id: uiClientId, session_id: sessionId.nullable().optional() }).strict(),
    output: subscriptionResult,
  }),
  /**
   * Served by each UI client (console, CLI, bots), called by the harness: one agent event of a
   * session the client follows. The client's answer is not read.
   */
  sessionEvent: contractFamily(uiPushFunctionId, {
    description: 'Receive one agent event of a followed session (served by a UI client, called by the harness)',
    input: z.object({ session_id: sessionId, event: z.unknown() }),
    output: z.unknown(),
  }),
};
