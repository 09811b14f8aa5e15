import {
  type AdapterContext,
  createProviderWorker,
  type FailureKind,
  type ProviderAdapter,
  ProviderFailure,
  type ProviderRequest,
  providerConfigShape,
  type StreamOutcome,
  sleep,
} from '@iii-harness/provider-kit';
import type { WorkerSpec } from '@iii-harness/runtime';
import { contractFamily, type Model, message, type StopReason, type UserMessage } from '@iii-harness/types';
import { z } from 'zod';
import { splitText } from './fake-vendors/scenario.js';

const FAILURE_KINDS = [
  'auth',
  'rate_limited',
  'overloaded',
  'server',
  'bad_request',
  'context_overflow',
  'not_found',
  'connection',
  'timeout',
  'unknown',
] as const satisfies readonly FailureKind[];

const step = z.union([
  z.object({ text: z.string() }).strict(),
  z.object({ thinking: z.string(), signature: z.string().optional() }).strict(),
  z
    .object({
      tool_call: z
        .object({
          id: z.string().min(1).optional(),
          name: z.string().min(1),
          arguments: z.record(z.string(), z.unknown()),
        })
        .strict(),
    })
    .strict(),
]);

/** One scripted assistant turn (JSON form, as `provider::<id>::script` takes it). */
export const scriptedTurn = z
  .object({
    /** Plays only for a request whose last user message contains this text. */
    match: z.string().optional(),
    steps: z.array(step).default([]),
    /** Default: `function_call` when a step calls a tool, else `end`. */
    stop: z.enum(['end', 'length', 'function_call', 'other']).optional(),
    raw_stop_reason: z.string().optional(),
    usage: z
      .object({
        input: z.number().int().nonnegative(),
        output: z.number().int().nonnegative(),
        cache_read: z.number().int().nonnegative().optional(),
        cache_write: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
    /** Deltas per text, thinking and argument string (default 2). */
    split: z.number().int().positive().optional(),
    /** Pause before each event: a slow stream to abort. */
    delay_ms: z.number().int().nonnegative().optional(),
    /** Fail instead: before any output (`after_steps` absent or 0) or after that many steps. */
    fail: z
      .object({
        message: z.string(),
        kind: z.enum(FAILURE_KINDS).optional(),
        retryable: z.boolean().optional(),
        after_steps: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ScriptedTurnInput = z.input<typeof scriptedTurn>;

/**
 * The scripted provider's two functions beyond the four every provider serves. A test worker's
 * contracts live with it, not in the production catalogue: `bus.call(scriptedContracts.script('scripted'), {turns})`.
 */
export const scriptedContracts = {
  script: contractFamily((id) => `provider::${id}::script`, {
    description: 'Queue scripted assistant turns (played one per request, in order)',
    input: z.object({ turns: z.array(scriptedTurn).min(1) }).strict(),
    output: z.object({ pending: z.number().int() }),
  }),
  requests: contractFamily((id) => `provider::${id}::requests`, {
    description: 'The requests the scripted provider received, oldest first',
    input: z.object({}).strict(),
    output: z.object({
      requests: z.array(
        z
          .object({ request_id: z.string(), model: z.string(), messages: z.array(message), received_at: z.number() })
          .loose(),
      ),
    }),
  }),
};

/** A turn as tests write it: `match` may also be a RegExp or a predicate on the request. */
export type ScriptedTurn = Omit<ScriptedTurnInput, 'match'> & {
  match?: string | RegExp | ((request: ProviderRequest) => boolean);
};

/** What the scripted model was sent, one entry per attempt (retries included). */
export interface RecordedProviderRequest extends ProviderRequest {
  received_at: number;
}

export const scriptedConfig = z
  .object({
    ...providerConfigShape,
    // Scripted turns are consumed per attempt, so retrying is opt-in here.
    max_retries: providerConfigShape.max_retries.default(0),
    retry_base_delay_ms: providerConfigShape.retry_base_delay_ms.default(1),
    discover_on_start: z.boolean().default(false),
  })
  .strict();
export type ScriptedConfig = z.infer<typeof scriptedConfig>;

export interface ScriptedProviderOptions {
  /** Provider id (default `scripted`): functions are `provider::<id>::*`. */
  id?: string;
  turns?: ScriptedTurn[];
  /** Played when no queued turn fits; without it such a request fails with `provider_error`. */
  fallback?: ScriptedTurn;
  /** What `refresh_models` reports (default: one model `scripted-model`). */
  models?: Model[];
}

export interface ScriptedProvider {
  /** Start it with `startTestWorker(provider.spec, {url})`. */
  spec: WorkerSpec<ScriptedConfig>;
  readonly requests: RecordedProviderRequest[];
  /** Queue more turns. */
  script(...turns: ScriptedTurn[]): ScriptedProvider;
  /** Turns not played yet. */
  pending(): number;
  /** The text of the last user message of a request (what `match` looks at). */
  lastUserText(request: ProviderRequest): string;
}

/**
 * A provider worker without HTTP: `provider::<id>::stream|complete|abort|refresh_models` from
 * provider-kit over an adapter that plays scripted assistant turns, one per request in order
 * (a turn with `match` waits for a request whose last user message fits). It records every
 * request, and a slow turn (`delay_ms`) can be stopped with `provider::<id>::abort`. Extra
 * functions: `provider::<id>::script {turns}` queues turns, `provider::<id>::requests` returns
 * what was received.
 */
export function createScriptedProvider(options: ScriptedProviderOptions = {}): ScriptedProvider {
  const id = options.id ?? 'scripted';
  const queue: ScriptedTurn[] = [...(options.turns ?? [])];
  const requests: RecordedProviderRequest[] = [];
  const models = options.models ?? [
    {
      id: 'scripted-model',
      provider: id,
      context_window: 200_000,
      max_output_tokens: 8192,
      capabilities: ['tools', 'thinking', 'streaming'],
    },
  ];

  const take = (request: ProviderRequest): ScriptedTurn | undefined => {
    const index = pickTurn(queue, request);
    return index >= 0 ? queue.splice(index, 1)[0] : options.fallback;
  };
  const adapter: ProviderAdapter = {
    async stream(request, ctx) {
      requests.push({ ...structuredClone(request), received_at: Date.now() });
      const turn = take(request);
      if (!turn)
        throw new ProviderFailure(
          'unknown',
          `scripted provider ${id} has no turn for request ${request.request_id} ("${lastUserText(request).slice(0, 80)}")`,
          { retryable: false },
        );
      const { match: _match, ...script } = turn;
      return playTurn(scriptedTurn.parse(script), ctx);
    },
    listModels: async () => models,
  };

  const provider: ScriptedProvider = {
    requests,
    spec: createProviderWorker({
      id,
      description: `Scripted test provider ${id}: plays queued assistant turns, no HTTP`,
      config: scriptedConfig,
      declaration: () => ({
        id,
        display_name: `Scripted (${id})`,
        default_url: 'http://scripted.invalid',
        default_max_tokens: 4096,
        supports_model_listing: true,
        kind: 'local',
      }),
      createAdapter: () => adapter,
      extraFunctions: (worker) => {
        worker.function(scriptedContracts.script(id), ({ turns }) => {
          queue.push(...turns);
          return { pending: queue.length };
        });
        worker.function(scriptedContracts.requests(id), () => ({
          requests: requests as Array<RecordedProviderRequest & Record<string, unknown>>,
        }));
      },
    }),
    script(...turns) {
      queue.push(...turns);
      return provider;
    },
    pending: () => queue.length,
    lastUserText,
  };
  return provider;
}

/** First turn whose matcher fits; else the first turn without a matcher; -1 when none. */
function pickTurn(queue: ScriptedTurn[], request: ProviderRequest): number {
  const text = lastUserText(request);
  const matched = queue.findIndex((turn) => turn.match !== undefined && matches(turn.match, text, request));
  return matched >= 0 ? matched : queue.findIndex((turn) => turn.match === undefined);
}

function matches(match: NonNullable<ScriptedTurn['match']>, text: string, request: ProviderRequest): boolean {
  if (typeof match === 'string') return text.includes(match);
  if (match instanceof RegExp) return match.test(text);
  return match(request);
}

export function lastUserText(request: ProviderRequest): string {
  const last = request.messages.findLast((m): m is UserMessage => m.role === 'user');
  if (!last) return '';
  return typeof last.content === 'string'
    ? last.content
    : last.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

/** Emit the turn's events through the kit's sink, pausing `delay_ms` before each (abortable). */
async function playTurn(
  turn: z.output<typeof scriptedTurn>,
  { sink, signal, started }: AdapterContext,
): Promise<StreamOutcome> {
  const split = turn.split ?? 2;
  const pause = () => (turn.delay_ms ? sleep(turn.delay_ms, signal) : undefined);
  const fail = () => {
    const f = turn.fail!;
    return new ProviderFailure(
      f.kind ?? 'server',
      f.message,
      f.retryable === undefined ? {} : { retryable: f.retryable },
    );
  };
  if (turn.fail && !turn.fail.after_steps) throw fail();
  started();
  for (const [index, s] of turn.steps.entries()) {
    if (turn.fail?.after_steps === index) throw fail();
    if ('text' in s) {
      for (const part of splitText(s.text, split)) {
        await pause();
        sink.text(index, part);
      }
    } else if ('thinking' in s) {
      for (const part of splitText(s.thinking, split)) {
        await pause();
        sink.thinking(index, part);
      }
      if (s.signature) sink.thinking(index, '', s.signature);
    } else {
      const callId = s.tool_call.id ?? `call_scripted_${index}`;
      await pause();
      sink.toolCallStart(index, callId, s.tool_call.name);
      for (const part of splitText(JSON.stringify(s.tool_call.arguments), split)) {
        await pause();
        sink.toolCallDelta(index, callId, part);
      }
      sink.toolCallEnd(index, callId);
    }
  }
  if (turn.fail && turn.fail.after_steps! >= turn.steps.length) throw fail();
  await pause();
  if (signal.aborted) throw new ProviderFailure('aborted', 'request aborted');
  const usage = turn.usage ?? { input: 0, output: 0 };
  sink.usage({
    input_tokens: usage.input,
    output_tokens: usage.output,
    cache_read_tokens: usage.cache_read ?? 0,
    cache_write_tokens: usage.cache_write ?? 0,
  });
  const stop: StopReason = turn.stop ?? (turn.steps.some((s) => 'tool_call' in s) ? 'function_call' : 'end');
  return { stop_reason: stop, ...(turn.raw_stop_reason ? { raw_stop_reason: turn.raw_stop_reason } : {}) };
}
