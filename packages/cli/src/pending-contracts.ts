import {
  contract,
  jsonObject,
  policyDecision,
  providerDeclaration,
  sessionId,
  turnView,
  userMessage,
} from '@iii-harness/types';
import { z } from 'zod';

/**
 * Stand-ins for contracts that `@iii-harness/types` does not declare yet (harness, approval, turn,
 * auth, compaction): same ids and shapes as the workers serve today, outputs read loosely. Only
 * `client.ts` uses them; when a group lands in `contracts`, `client.ts` switches to it and the
 * group is deleted here. Nothing else in the CLI names a function id.
 */

const loose = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

const harness = {
  send: contract({
    id: 'harness::send',
    description: 'Send a user message: starts a turn, or merges into the live turn of the session',
    input: z.object({
      session_id: sessionId.optional(),
      text: z.string().min(1).optional(),
      message: userMessage.optional(),
      provider: z.string().optional(),
      model: z.string().optional(),
      idempotency_key: z.string().min(1).max(200).optional(),
      system_prompt: z.string().optional(),
      max_turns: z.number().int().positive().optional(),
    }),
    output: loose({ session_id: z.string(), turn_id: z.string(), merged: z.boolean() }),
  }),
  providerList: contract({
    id: 'harness::provider::list',
    description: 'Every registered provider by id, with its effective URL and max tokens',
    input: z.object({}),
    output: loose({
      providers: z.array(
        providerDeclaration.loose().extend({ api_url: z.string().optional(), max_tokens: z.number().optional() }),
      ),
    }),
  }),
  checkPermissions: contract({
    id: 'policy::check_permissions',
    description: 'Decide whether an agent may call a function with these arguments',
    input: z.object({ function_id: z.string().min(1), args: z.unknown().optional() }),
    output: policyDecision,
  }),
};

const hold = loose({
  session_id: z.string(),
  turn_id: z.string(),
  function_call_id: z.string(),
  function_id: z.string(),
  args: jsonObject,
  requested_at: z.number(),
});

const approvalMode = z.enum(['manual', 'auto', 'full']);
const settings = loose({ session_id: z.string(), mode: approvalMode, always_allow: z.array(z.string()) });

const approval = {
  resolve: contract({
    id: 'approval::resolve',
    description: 'Decide a held function call: allow or deny',
    input: z.object({
      session_id: z.string(),
      function_call_id: z.string(),
      decision: z.enum(['allow', 'deny']),
      reason: z.string().max(2_000).optional(),
      always: z.boolean().optional(),
    }),
    output: loose({ decision: z.string(), already_resolved: z.boolean() }),
  }),
  listPending: contract({
    id: 'approval::list_pending',
    description: 'Calls waiting for a human decision, oldest first',
    input: z.object({ session_id: z.string().optional() }),
    output: loose({ pending: z.array(hold) }),
  }),
  setMode: contract({
    id: 'approval::set_mode',
    description: "Set a session's approval mode",
    input: z.object({ session_id: z.string(), mode: approvalMode }),
    output: settings,
  }),
  getSettings: contract({
    id: 'approval::get_settings',
    description: "A session's approval mode and always-allow list",
    input: z.object({ session_id: z.string() }),
    output: settings,
  }),
};

const turn = {
  getState: contract({
    id: 'turn::get_state',
    description: "The session's current (or last) turn",
    input: z.object({ session_id: z.string() }),
    output: turnView.loose(),
  }),
  abort: contract({
    id: 'run::abort',
    description: 'Abort the live turn of a session',
    input: z.object({ session_id: z.string() }),
    output: loose({ aborted: z.boolean(), turn_id: z.string().optional() }),
  }),
};

const providerStatus = loose({
  provider: z.string(),
  configured: z.boolean(),
  source: z.string().nullable(),
  env_var: z.string().nullable(),
});

const auth = {
  setToken: contract({
    id: 'auth::set_token',
    description: "Store (or replace) a provider's credential",
    input: z.object({ provider: z.string(), token: z.string() }),
    output: loose({ provider: z.string(), replaced: z.boolean() }),
  }),
  status: contract({
    id: 'auth::status',
    description: 'Whether providers have a credential and where it comes from',
    input: z.object({ provider: z.string().optional() }),
    output: loose({ providers: z.array(providerStatus) }),
  }),
};

const compaction = {
  compactSession: contract({
    id: 'compaction::compact_session',
    description: 'Summarize a session now (the /compact command)',
    input: z.object({ session_id: z.string() }),
    output: z.looseObject({}),
  }),
};

export const pending = { harness, approval, turn, auth, compaction };
