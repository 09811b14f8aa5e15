import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  annotateSpan,
  type Bus,
  functionSpanAttributes,
  type Handler,
  HarnessError,
  type Leases,
  type TurnContext,
  uuidv7,
  versionedRecord,
  withTurnBaggage,
} from '@iii-harness/runtime';
import {
  contracts,
  isTerminalTurnState,
  type SendInput,
  type SendOutput,
  type TurnView,
  type UserMessage,
} from '@iii-harness/types';
import type { Config } from './config.js';

const { session, run, turn } = contracts;

/** The answer stored per idempotency key, versioned: version 1 is today's shape, also without `v`. */
const sendAnswers = versionedRecord({
  what: 'send answer',
  current: 1,
  unversioned: 1,
  schema: contracts.harness.send.output,
  migrations: {},
});
function readSendAnswer(value: unknown, where: string): SendOutput {
  const { v: _v, ...answer } = sendAnswers.read(value, where);
  return answer;
}

/** `send:<sha>` — the user entry's id for an idempotency key (any characters allowed in the key). */
const entryIdFor = (key: string) => `send:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

/** The session's turn, or undefined when it never had one. */
async function turnOf(bus: Bus, sessionId: string): Promise<TurnView | undefined> {
  return bus.call(turn.getState, { session_id: sessionId }).catch((error: unknown) => {
    if (error instanceof HarnessError && error.code === 'not_found' && error.reason !== 'function_not_found')
      return undefined;
    throw error;
  });
}

async function liveTurn(bus: Bus, sessionId: string): Promise<TurnView | undefined> {
  const view = await turnOf(bus, sessionId);
  return view && !isTerminalTurnState(view.state) ? view : undefined;
}

/**
 * Work with one key runs one at a time in this copy (a shortcut: across copies, `run::start`
 * refuses a second live turn and the send merges, and keyed sends take a lease).
 */
function serializer() {
  const inFlight = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (inFlight.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    inFlight.set(key, run);
    return run.finally(() => {
      if (inFlight.get(key) === run) inFlight.delete(key);
    });
  };
}

const SEND_LEASE_TTL_MS = 10_000;
/** How often a send looks again while another start holds the session. */
const START_RETRY_MS = 200;

/**
 * The front door: a user message in, a turn started (or the message merged into the live turn).
 * Returns at once; the turn runs on the orchestrator's queue and reports on `agent::events`.
 * Sends with one idempotency key run one at a time on every copy of the harness (a lease), and
 * each after the first returns the first one's answer.
 */
export const send = (config: Config, leases: Leases) => {
  const serialized = serializer();
  return ((input, { bus }) => {
    const sessionId = input.session_id ?? uuidv7();
    const key = input.idempotency_key;
    // The user message's entry id; with a key, the same on every retry of the send.
    const entryId = key ? entryIdFor(key) : uuidv7();
    const deliverIt = () =>
      inTurnTrace({ session_id: sessionId, message_id: entryId }, () =>
        deliver(bus, config, { ...input, session_id: sessionId }, entryId),
      );
    if (key === undefined) return serialized(sessionId, deliverIt);
    return serialized(`key:${key}`, async () => {
      const result = await leases.run(
        `harness_send:${entryIdFor(key)}`,
        { ttlMs: SEND_LEASE_TTL_MS, waitMs: config.send_wait_ms },
        deliverIt,
      );
      if (!result.ran)
        throw new HarnessError('timeout', 'a send with this idempotency_key is still being delivered; try again', {
          reason: 'send_in_progress',
          retryable: true,
        });
      return result.value;
    });
  }) satisfies Handler<typeof contracts.harness.send>;
};

async function deliver(
  bus: Bus,
  config: Config,
  input: SendInput & { session_id: string },
  entryId: string,
): Promise<SendOutput> {
  const key = input.idempotency_key;
  if (key) {
    const earlier = await bus.state.get(config.sends_scope, key);
    if (earlier !== undefined) return readSendAnswer(earlier, `${config.sends_scope}/${key}`);
  }
  const provider = input.provider ?? config.default_provider;
  const model = input.model ?? config.default_model;
  const message: UserMessage = input.message ?? { role: 'user', content: input.text!, timestamp: Date.now() };
  const { created } = await bus.call(session.ensure, { session_id: input.session_id });

  let result: SendOutput;
  // A session created just now has no turn to merge into (one started meanwhile is caught below).
  const live = created ? undefined : await liveTurn(bus, input.session_id);
  if (live) {
    // Under the send's own entry id: a retried send (same key) whose first try already appended
    // the message is folded in as that same entry, so the message is stored once.
    const item = { message, entry_id: entryId };
    await bus.call(session.inboxPush, { session_id: input.session_id, name: 'steering', item });
    result = { session_id: input.session_id, turn_id: live.turn_id, merged: true };
  } else {
    if (!provider || !model)
      throw new HarnessError(
        'invalid_payload',
        'no provider/model given and no default_provider/default_model configured',
      );
    const appended = await bus.call(session.append, {
      session_id: input.session_id,
      entry_id: entryId,
      entry: { type: 'message', message },
    });
    const ran = appended.created ? undefined : await turnSince(bus, input.session_id, appended.entry.created_at);
    result = ran
      ? { session_id: input.session_id, turn_id: ran.turn_id, merged: false }
      : await startOrJoin(bus, config, { ...input, provider, model }, entryId);
  }
  if (key) await bus.state.set(config.sends_scope, key, sendAnswers.stamp(result));
  annotateSpan({ ...functionSpanAttributes(contracts.harness.send.id, result), 'iii.send.merged': result.merged });
  return result;
}

/**
 * A retried send whose first try appended the message (and then lost its answer): a turn started
 * since had the message in its transcript, so it is this send's turn — starting another would
 * answer the message twice.
 */
async function turnSince(bus: Bus, sessionId: string, appendedAt: number): Promise<TurnView | undefined> {
  const view = await turnOf(bus, sessionId);
  return view && view.started_at >= appendedAt ? view : undefined;
}

/**
 * Start a turn for a message already appended, or hand it to the turn another start just made.
 * `session_busy` without a live turn means a start holds the session's claim: a live one's turn
 * appears in a moment, a dead one's claim expires (the orchestrator's `start_claim_ms`). So look
 * again until either happens, up to `start_wait_ms`: a message is never reported merged into a
 * turn that does not exist (it would sit unanswered).
 */
async function startOrJoin(
  bus: Bus,
  config: Config,
  input: SendInput & { session_id: string; provider: string; model: string },
  entryId: string,
): Promise<SendOutput> {
  const session_id = input.session_id;
  const deadline = Date.now() + config.start_wait_ms;
  for (;;) {
    try {
      const { turn_id } = await bus.call(run.start, {
        session_id,
        provider: input.provider,
        model: input.model,
        ...(input.system_prompt ? { system_prompt: input.system_prompt } : {}),
        ...(input.max_turns ? { max_turns: input.max_turns } : {}),
        ...(input.functions ? { functions: input.functions } : {}),
      });
      return { session_id, turn_id, merged: false };
    } catch (error) {
      if (!(error instanceof HarnessError && error.reason === 'session_busy')) throw error;
    }
    const live = await liveTurn(bus, session_id);
    if (live) {
      // It may have read the transcript before our message landed: make it look again.
      await bus.call(session.inboxPush, { session_id, name: 'steering', item: { appended_entry_id: entryId } });
      return { session_id, turn_id: live.turn_id, merged: true };
    }
    if (Date.now() >= deadline)
      throw new HarnessError(
        'unavailable',
        `a turn is being started on session ${session_id} and none appeared within ${config.start_wait_ms} ms; try again`,
        { reason: 'session_busy', retryable: true },
      );
    await sleep(START_RETRY_MS);
  }
}

/**
 * The turn's trace begins here: its session and user message ride along as baggage (iii-sdk puts
 * them on every span of the turn, in every worker; the console groups traces by them).
 */
function inTurnTrace<T>(turn: TurnContext, fn: () => Promise<T>): Promise<T> {
  annotateSpan(functionSpanAttributes(contracts.harness.send.id, turn));
  return withTurnBaggage(turn, fn);
}

export const status = () =>
  (async ({ session_id }, { bus }) => {
    const turn = await turnOf(bus, session_id);
    return { session_id, live: turn !== undefined && !isTerminalTurnState(turn.state), ...(turn ? { turn } : {}) };
  }) satisfies Handler<typeof contracts.harness.status>;

export const stop = () =>
  (async ({ session_id }, { bus }) => {
    const { aborted, turn_id } = await bus.call(run.abort, { session_id });
    return { stopped: aborted, ...(turn_id ? { turn_id } : {}) };
  }) satisfies Handler<typeof contracts.harness.stop>;
