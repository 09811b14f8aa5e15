import { type AgentEvents, defineFunction, HarnessError } from '@iii-harness/runtime';
import { approvalDecision, jsonObject } from '@iii-harness/types';
import { z } from 'zod';
import { approvalMode, type Config } from './config.js';
import { resolveHold } from './resolution.js';
import { type ApprovalStore, decisionRecord, hold, settings } from './store.js';

/** Session and call ids become state keys `<session>/<call>`, so neither may hold a `/`. */
const id = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^/]+$/, 'must not contain "/"');
const functionId = z.string().min(1).max(300);

export interface Deps {
  store: ApprovalStore;
  events: AgentEvents;
  config: Config;
}

export const holdCall = ({ store, events }: Deps) =>
  defineFunction({
    id: 'approval::hold',
    description: 'Park a function call until a human decides (used by the turn orchestrator)',
    input: z
      .object({
        session_id: id,
        turn_id: z.string().min(1),
        function_call_id: id,
        function_id: functionId,
        args: jsonObject,
      })
      .strict(),
    output: z.object({ hold, created: z.boolean() }),
    async handler(input) {
      const { hold: stored, created } = await store.putHold({ ...input, requested_at: Date.now() });
      if (created)
        await events.emit(input.session_id, input.turn_id, {
          type: 'approval_requested',
          function_call_id: input.function_call_id,
          function_id: input.function_id,
          args: input.args,
        });
      return { hold: stored, created };
    },
  });

export const resolve = ({ store, events }: Deps) =>
  defineFunction({
    id: 'approval::resolve',
    description: 'Decide a held function call: allow or deny (always: allow this function for the rest of the session)',
    input: z
      .object({
        session_id: id,
        function_call_id: id,
        decision: z.enum(['allow', 'deny']),
        reason: z.string().max(2_000).optional(),
        always: z.boolean().optional(),
      })
      .strict(),
    output: z.object({ decision: approvalDecision, already_resolved: z.boolean() }),
    async handler({ session_id, function_call_id, decision, reason, always }, { bus, logger }) {
      const pending = await store.getHold(session_id, function_call_id);
      if (!pending) {
        const earlier = await store.getDecision(session_id, function_call_id);
        if (earlier) return { decision: earlier.decision, already_resolved: true };
        throw new HarnessError('not_found', `no pending approval ${function_call_id} in session ${session_id}`);
      }
      if (always && decision === 'allow') {
        const current = await store.getSettings(session_id);
        await store.putSettings({ ...current, always_allow: [...current.always_allow, pending.function_id] });
      }
      const done = await resolveHold({ store, bus, events, logger }, pending, decision, reason);
      if (!done) {
        const earlier = await store.getDecision(session_id, function_call_id);
        return { decision: earlier?.decision ?? decision, already_resolved: true };
      }
      return { decision, already_resolved: false };
    },
  });

export const cancel = ({ store, events }: Deps) =>
  defineFunction({
    id: 'approval::cancel',
    description: 'Resolve a held call as aborted (used by the orchestrator when a turn is aborted)',
    input: z.object({ session_id: id, function_call_id: id, reason: z.string().max(2_000).optional() }).strict(),
    output: z.object({ cancelled: z.boolean() }),
    async handler({ session_id, function_call_id, reason }, { bus, logger }) {
      const pending = await store.getHold(session_id, function_call_id);
      if (!pending) return { cancelled: false };
      return {
        cancelled:
          (await resolveHold({ store, bus, events, logger }, pending, 'aborted', reason ?? 'turn aborted')) !==
          undefined,
      };
    },
  });

export const getDecision = ({ store }: Deps) =>
  defineFunction({
    id: 'approval::get_decision',
    description: 'The decision on a call, if one was made (used by the orchestrator when it wakes)',
    input: z.object({ session_id: id, function_call_id: id }).strict(),
    output: z.object({ decision: decisionRecord.optional(), pending: z.boolean() }),
    async handler({ session_id, function_call_id }) {
      const [record, pending] = await Promise.all([
        store.getDecision(session_id, function_call_id),
        store.getHold(session_id, function_call_id),
      ]);
      return { ...(record ? { decision: record } : {}), pending: pending !== undefined && record === undefined };
    },
  });

export const listPending = ({ store }: Deps) =>
  defineFunction({
    id: 'approval::list_pending',
    description: 'Calls waiting for a human decision, oldest first (one session, or all)',
    input: z.object({ session_id: id.optional() }).strict(),
    output: z.object({ pending: z.array(hold) }),
    handler: async ({ session_id }) => ({ pending: await store.listHolds(session_id) }),
  });

export const getSettings = ({ store }: Deps) =>
  defineFunction({
    id: 'approval::get_settings',
    description: "A session's approval mode and always-allow list",
    input: z.object({ session_id: id }).strict(),
    output: settings,
    handler: ({ session_id }) => store.getSettings(session_id),
  });

export const setMode = ({ store }: Deps) =>
  defineFunction({
    id: 'approval::set_mode',
    description:
      "Set a session's approval mode: manual (hold what the policy does not allow), auto (allow unless denied), full (allow all but the kernel list)",
    input: z.object({ session_id: id, mode: approvalMode }).strict(),
    output: settings,
    handler: async ({ session_id, mode }) => store.putSettings({ ...(await store.getSettings(session_id)), mode }),
  });

export const addAlwaysAllow = ({ store }: Deps) =>
  defineFunction({
    id: 'approval::add_always_allow',
    description: 'Allow a function without asking for the rest of the session',
    input: z.object({ session_id: id, function_id: functionId }).strict(),
    output: settings,
    handler: async ({ session_id, function_id }) => {
      const current = await store.getSettings(session_id);
      return store.putSettings({ ...current, always_allow: [...current.always_allow, function_id] });
    },
  });

export const removeAlwaysAllow = ({ store }: Deps) =>
  defineFunction({
    id: 'approval::remove_always_allow',
    description: "Take a function off the session's always-allow list",
    input: z.object({ session_id: id, function_id: functionId }).strict(),
    output: settings,
    handler: async ({ session_id, function_id }) => {
      const current = await store.getSettings(session_id);
      return store.putSettings({ ...current, always_allow: current.always_allow.filter((f) => f !== function_id) });
    },
  });

export const clearSettings = ({ store }: Deps) =>
  defineFunction({
    id: 'approval::clear_settings',
    description: "Forget a session's approval settings (back to the default mode)",
    input: z.object({ session_id: id }).strict(),
    output: z.object({ cleared: z.boolean() }),
    handler: async ({ session_id }) => {
      await store.clearSettings(session_id);
      return { cleared: true };
    },
  });

export const sweep = ({ store, events, config }: Deps) =>
  defineFunction({
    id: 'approval::sweep',
    description: 'Deny holds older than pending_timeout_ms (run by a cron trigger)',
    input: z.object({}).passthrough(),
    output: z.object({ expired: z.number().int() }),
    async handler(_input, { bus, logger }) {
      const cutoff = Date.now() - config.pending_timeout_ms;
      let expired = 0;
      for (const pending of (await store.listHolds()).filter((h) => h.requested_at <= cutoff)) {
        if (
          await resolveHold(
            { store, bus, events, logger },
            pending,
            'deny',
            `approval timed out after ${config.pending_timeout_ms} ms`,
          )
        )
          expired++;
      }
      if (expired) logger.info({ expired }, 'expired approval holds denied');
      return { expired };
    },
  });
