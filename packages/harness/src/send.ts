import { createHash } from 'node:crypto';
import { type Bus, defineFunction, HarnessError, uuidv7 } from '@iii-harness/runtime';
import {
  isTerminalTurnState,
  sessionId,
  type TurnView,
  turnView,
  type UserMessage,
  userMessage,
} from '@iii-harness/types';
import { z } from 'zod';
import type { Config } from './config.js';

export const sendInput = z
  .object({
    session_id: sessionId.optional(),
    text: z.string().min(1).max(1_000_000).optional(),
    message: userMessage.optional(),
    provider: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/)
      .optional(),
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
type SendInput = z.infer<typeof sendInput>;

const sendOutput = z.object({ session_id: sessionId, turn_id: z.string(), merged: z.boolean() });
type SendOutput = z.infer<typeof sendOutput>;

/** `send:<sha>` — the user entry's id for an idempotency key (any characters allowed in the key). */
const entryIdFor = (key: string) => `send:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

async function liveTurn(bus: Bus, session: string): Promise<TurnView | undefined> {
  const view = await bus
    .call('turn::get_state', { session_id: session }, { schema: turnView })
    .catch((error: unknown) => {
      if (error instanceof HarnessError && error.code === 'not_found' && error.reason !== 'function_not_found')
        return undefined;
      throw error;
    });
  return view && !isTerminalTurnState(view.state) ? view : undefined;
}

/** Sends with the same idempotency key (or to the same session) run one at a time in this process. */
const inFlight = new Map<string, Promise<unknown>>();
function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
  const run = (inFlight.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
  inFlight.set(key, run);
  return run.finally(() => {
    if (inFlight.get(key) === run) inFlight.delete(key);
  });
}

/**
 * The front door: a user message in, a turn started (or the message merged into the live turn).
 * Returns at once; the turn runs on the orchestrator's queue and reports on `agent::events`.
 */
export const send = (config: Config) =>
  defineFunction({
    id: 'harness::send',
    description:
      'Send a user message: starts a turn, or merges into the live turn of the session (steering inbox); idempotent with idempotency_key',
    input: sendInput,
    output: sendOutput,
    handler: (input, { bus }) => {
      const session = input.session_id ?? uuidv7();
      return serialized(input.idempotency_key ?? session, () =>
        deliver(bus, config, { ...input, session_id: session }),
      );
    },
  });

async function deliver(bus: Bus, config: Config, input: SendInput & { session_id: string }): Promise<SendOutput> {
  const key = input.idempotency_key;
  if (key) {
    const earlier = await bus.state.get(config.sends_scope, key, sendOutput);
    if (earlier) return earlier;
  }
  const provider = input.provider ?? config.default_provider;
  const model = input.model ?? config.default_model;
  const message: UserMessage = input.message ?? { role: 'user', content: input.text!, timestamp: Date.now() };
  await bus.call('session::ensure', { session_id: input.session_id });

  let result: SendOutput;
  const live = await liveTurn(bus, input.session_id);
  if (live) {
    // Under the send's own entry id when it has a key: a retried send whose first try already
    // appended the message is folded in as that same entry, so the message is stored once.
    const item = { message, ...(key ? { entry_id: entryIdFor(key) } : {}) };
    await bus.call('session::inbox::push', { session_id: input.session_id, name: 'steering', item });
    result = { session_id: input.session_id, turn_id: live.turn_id, merged: true };
  } else {
    if (!provider || !model)
      throw new HarnessError(
        'invalid_payload',
        'no provider/model given and no default_provider/default_model configured',
      );
    const entryId = key ? entryIdFor(key) : uuidv7();
    await bus.call('session::append', {
      session_id: input.session_id,
      entry_id: entryId,
      entry: { type: 'message', message },
    });
    try {
      const { turn_id } = await bus.call<{ turn_id: string }>('run::start', {
        session_id: input.session_id,
        provider,
        model,
        ...(input.system_prompt ? { system_prompt: input.system_prompt } : {}),
        ...(input.max_turns ? { max_turns: input.max_turns } : {}),
        ...(input.functions ? { functions: input.functions } : {}),
      });
      result = { session_id: input.session_id, turn_id, merged: false };
    } catch (error) {
      if (!(error instanceof HarnessError && error.reason === 'session_busy')) throw error;
      // A turn started between our check and our start: the message is already on the path; make the live turn look again.
      await bus.call('session::inbox::push', {
        session_id: input.session_id,
        name: 'steering',
        item: { appended_entry_id: entryId },
      });
      const now = await liveTurn(bus, input.session_id);
      result = { session_id: input.session_id, turn_id: now?.turn_id ?? '', merged: true };
    }
  }
  if (key) await bus.state.set(config.sends_scope, key, result);
  return result;
}

export const status = () =>
  defineFunction({
    id: 'harness::status',
    description: "A session's turn (state, pending approvals, usage) and whether it is live",
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ session_id: sessionId, live: z.boolean(), turn: turnView.optional() }),
    async handler({ session_id }, { bus }) {
      const turn = await bus.call('turn::get_state', { session_id }, { schema: turnView }).catch((error: unknown) => {
        if (error instanceof HarnessError && error.code === 'not_found' && error.reason !== 'function_not_found')
          return undefined;
        throw error;
      });
      return { session_id, live: turn !== undefined && !isTerminalTurnState(turn.state), ...(turn ? { turn } : {}) };
    },
  });

export const stop = () =>
  defineFunction({
    id: 'harness::stop',
    description:
      'Stop the live turn of a session (run::abort): the provider stream is cut, held calls are resolved as aborted',
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ stopped: z.boolean(), turn_id: z.string().optional() }),
    async handler({ session_id }, { bus }) {
      const { aborted, turn_id } = await bus.call<{ aborted: boolean; turn_id?: string }>('run::abort', { session_id });
      return { stopped: aborted, ...(turn_id ? { turn_id } : {}) };
    },
  });
