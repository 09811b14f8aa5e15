import { createHash } from 'node:crypto';
import { type Bus, type Handler, HarnessError, type Logger } from '@iii-harness/runtime';
import {
  type CompactionResult,
  type CompactionStatus,
  contracts,
  type JsonObject,
  type ToolSpec,
} from '@iii-harness/types';
import type { Config } from './config.js';
import type { CompactionDetails, SummarySections } from './details.js';
import type { Health, HealthStore } from './health.js';
import type { Leases } from './lease.js';
import { type Draft, type Mode, runPipeline, type SummaryRequest, scaleMeasured } from './pipeline.js';
import { type Measured, measure } from './plan.js';
import { type Summariser, summarise } from './summariser.js';
import { counterFor } from './tokens.js';
import { modelWindow, windowOf } from './window.js';

/**
 * The three ways in: `compact_now` (the orchestrator's pre-flight, only when the request would not
 * fit), `compact_session` (the /compact command: always summarises, resets the breaker) and
 * `prune_tool_outputs` (cap and prune only, no model call). Each takes the session's lease,
 * measures again under it, runs the pipeline, checks the draft helps, and appends it.
 */

export interface CompactDeps {
  config: Config;
  leases: Leases;
  health: HealthStore;
  /** This worker instance, as lease holder. */
  holder: string;
}

interface Request {
  session_id: string;
  provider: string;
  model: string;
  system?: string;
  tools?: ToolSpec[];
  reserve_output_tokens?: number;
}

interface RunOptions {
  mode: Mode;
  reason?: 'preflight' | 'overflow';
  instructions?: string;
}

const needs = (m: Measured) => m.projection.projected > m.window.usable_tokens;

export const compactNow = (deps: CompactDeps) =>
  (async ({ reason, ...request }, ctx) =>
    run(deps, ctx.bus, ctx.logger, request, { mode: 'auto', reason })) satisfies Handler<
    typeof contracts.compaction.compactNow
  >;

export const compactSession = (deps: CompactDeps) =>
  (async ({ session_id, instructions, provider, model }, ctx) => {
    const ref = provider && model ? { provider, model } : await sessionModel(ctx.bus, session_id);
    return run(deps, ctx.bus, ctx.logger, { session_id, ...ref }, { mode: 'manual', instructions });
  }) satisfies Handler<typeof contracts.compaction.compactSession>;

export const pruneToolOutputs = (deps: CompactDeps) =>
  (async ({ session_id, provider, model }, ctx) => {
    const ref = provider && model ? { provider, model } : await sessionModel(ctx.bus, session_id);
    return run(deps, ctx.bus, ctx.logger, { session_id, ...ref }, { mode: 'prune_only' });
  }) satisfies Handler<typeof contracts.compaction.pruneToolOutputs>;

/** The model of the session's last assistant message: what its next request most likely goes to. */
async function sessionModel(bus: Bus, sessionId: string): Promise<{ provider: string; model: string }> {
  const { messages } = await bus.call(contracts.session.messages, { session_id: sessionId });
  const last = messages.findLast((m) => m.message.role === 'assistant')?.message;
  if (last?.role !== 'assistant')
    throw new HarnessError(
      'invalid_payload',
      `session ${sessionId} has no assistant message to tell which model it uses: pass provider and model`,
      { reason: 'model_unknown' },
    );
  return { provider: last.provider, model: last.model };
}

async function run(
  deps: CompactDeps,
  bus: Bus,
  logger: Logger,
  request: Request,
  options: RunOptions,
): Promise<CompactionResult> {
  const { config } = deps;
  const sessionId = request.session_id;
  let m = await measure(deps, bus, request);
  const answer = (
    status: CompactionStatus,
    message: string,
    extra: Partial<CompactionResult> = {},
  ): CompactionResult => ({
    session_id: sessionId,
    status,
    compaction_entry_id: m.view.compaction?.id ?? null,
    tokens_before: m.projection.projected,
    tokens_after: m.projection.projected,
    usable_tokens: m.window.usable_tokens,
    summariser_calls: 0,
    message,
    ...extra,
  });
  const overflow = options.reason === 'overflow';
  if (options.mode === 'auto') {
    const health = await deps.health.read(sessionId);
    if (health.breaker_open)
      return answer(
        'breaker_open',
        `compaction failed ${health.consecutive_failures} times in a row; /compact tries again`,
      );
    if (!overflow && !needs(m)) return answer('not_needed', 'the next request fits the window');
    if (!overflow && health.no_progress_leaf !== null && health.no_progress_leaf === m.view.leaf_id)
      return answer(
        'did_not_help',
        'compaction at this point of the session did not help; it is retried once the session has grown',
      );
  }

  const lease = await deps.leases.acquire(sessionId, deps.holder, config.busy_wait_ms);
  if (!lease) return answer('busy', 'another compaction of this session is running');
  try {
    let health = await deps.health.read(sessionId);
    if (options.mode === 'manual')
      health = { ...health, consecutive_failures: 0, breaker_open: false, no_progress_leaf: null };
    // Measured again under the lease: a compaction that held it may have changed the session.
    m = await measure(deps, bus, request);
    if (options.mode === 'auto' && !overflow && !needs(m))
      return answer('not_needed', 'the next request fits the window');
    if (overflow)
      m = scaleMeasured(m, Math.max(1.25, (m.window.usable_tokens * 1.1) / Math.max(1, m.projection.estimate_total)));
    const leaf = m.view.leaf_id;
    const settle = async (result: CompactionResult, counts = options.mode !== 'prune_only') => {
      health = deps.health.apply(health, result, leaf, counts);
      await deps.health.write(sessionId, health);
      logger.info(
        {
          session_id: sessionId,
          status: result.status,
          stage: result.stage,
          tokens_before: result.tokens_before,
          tokens_after: result.tokens_after,
        },
        'compaction',
      );
      return result;
    };

    let outcome: Awaited<ReturnType<typeof runPipeline>>;
    try {
      outcome = await runPipeline({
        measured: m,
        config,
        mode: options.mode,
        summarise: (summary) =>
          summariseFrom(
            deps,
            bus,
            request,
            m,
            summary,
            options.instructions,
            () => health,
            async (next) => {
              health = next;
              await deps.health.write(sessionId, health);
            },
          ),
      });
    } catch (error) {
      if (!(error instanceof HarnessError)) throw error;
      return settle(answer('failed', error.message, { stage: 'summary' }));
    }
    if (!outcome.draft) return settle(answer('nothing_to_compact', outcome.reason), false);
    const draft = outcome.draft;
    const extra = { stage: draft.stage, tokens_after: draft.tokens_after, summariser_calls: draft.summariser_calls };
    if (draft.tokens_after >= m.projection.estimate_total)
      return settle(
        answer(
          'did_not_help',
          `the ${draft.stage} stage would leave ${draft.tokens_after} tokens of ${m.projection.estimate_total}: nothing appended${draft.summariser_calls ? ' (the summary is kept for the next compaction)' : ''}`,
          extra,
        ),
      );
    if (!(await lease.held()))
      return answer('busy', 'the lease expired before the compaction could be appended; nothing appended', extra);
    let entryId: string;
    try {
      entryId = await append(bus, m, draft);
    } catch (error) {
      if (!(error instanceof HarnessError)) throw error;
      return settle(answer('failed', `the compaction entry could not be appended: ${error.message}`, extra));
    }
    const fits = draft.tokens_after <= m.window.usable_tokens;
    return settle(
      answer(
        fits ? 'compacted' : 'insufficient',
        fits
          ? `${draft.stage}: ${m.projection.projected} → ${draft.tokens_after} tokens`
          : `${draft.stage}: ${m.projection.projected} → ${draft.tokens_after} tokens, still over the usable ${m.window.usable_tokens}`,
        { ...extra, compaction_entry_id: entryId },
      ),
    );
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/**
 * Summarise, starting from a summary paid for earlier and not appended (when it continues the same
 * window and its span is part of this one). Each chunk's result is saved as it comes.
 */
async function summariseFrom(
  deps: CompactDeps,
  bus: Bus,
  request: Request,
  m: Measured,
  { previous, span }: SummaryRequest,
  instructions: string | undefined,
  health: () => Health,
  save: (health: Health) => Promise<void>,
): Promise<{ sections: SummarySections; calls: number }> {
  // A pending summary continues the summary the window starts from; cap and prune compactions
  // keep both (same sections, same first kept entry), so it survives them.
  const windowStart = m.view.messages[0]?.entry_id ?? null;
  const pending = health().pending;
  if (pending && pending.window_start === windowStart) {
    const through = span.findIndex((v) => v.entry_id === pending.through_entry_id);
    if (through >= 0) {
      previous = pending.sections;
      span = span.slice(through + 1);
    }
  }
  if (!span.length && previous) return { sections: previous, calls: 0 };
  return summarise(bus, await summariserFor(deps.config, bus, request, m), {
    session_id: request.session_id,
    previous,
    span,
    ...(instructions ? { instructions } : {}),
    result_chars: deps.config.summary_result_chars,
    onChunk: (sections, throughEntryId) =>
      save({
        ...health(),
        pending: { window_start: windowStart, through_entry_id: throughEntryId, sections, at: Date.now() },
      }),
  });
}

/** The configured summariser, or the session's own model; its output capped for the session's window. */
async function summariserFor(config: Config, bus: Bus, request: Request, m: Measured): Promise<Summariser> {
  const provider = config.summariser?.provider ?? request.provider;
  const model = config.summariser?.model ?? request.model;
  const found = await modelWindow(bus, config, provider, model);
  const maxTokens = Math.min(
    config.summary_max_tokens,
    Math.max(256, Math.floor(m.window.usable_tokens * config.summary_ratio)),
    found.model.max_output_tokens,
  );
  return {
    provider,
    model,
    window: windowOf(found.model, config, maxTokens),
    counter: await counterFor(config.tokenizers, provider, model),
    max_tokens: maxTokens,
    timeout_ms: config.summariser_timeout_ms,
  };
}

/** Append the draft as a compaction entry; its id is derived from what it compacts, so a retry does not add a second. */
async function append(bus: Bus, m: Measured, draft: Draft): Promise<string> {
  const { view } = m;
  const details: CompactionDetails = {
    format: 1,
    stage: draft.stage,
    sections: draft.sections,
    ledger: draft.ledger,
    tokens_after: draft.tokens_after,
    last_message_id: view.messages[view.messages.length - 1]?.entry_id ?? null,
    sequence: (view.details?.sequence ?? 0) + 1,
  };
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        view.session_id,
        view.compaction?.id ?? null,
        view.leaf_id,
        draft.stage,
        draft.first_kept_entry_id,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
  const { entry_id } = await bus.call(contracts.session.append, {
    session_id: view.session_id,
    entry_id: `compaction:${digest}`,
    entry: {
      type: 'compaction',
      summary: draft.summary_text,
      tokens_before: m.projection.projected,
      first_kept_entry_id: draft.first_kept_entry_id,
      ...(Object.keys(draft.replaced).length ? { replaced_results: draft.replaced } : {}),
      details: details as unknown as JsonObject,
    },
  });
  return entry_id;
}
