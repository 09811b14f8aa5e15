import { HarnessError } from '@iii-harness/runtime';
import { contracts, type Model } from '@iii-harness/types';
import type { TurnRecord } from '../record.js';
import { buildNativeTools } from '../tools.js';
import type { StepResult, TurnRun } from '../turn.js';

/**
 * Learn the model's limits and price from the catalog (when it knows the model), fix the tools,
 * and, when llm-budget runs, what the turn's model calls are reserved against: who pays (the
 * workspace and agent from `run::start`, else from the session's metadata) and the output cap;
 * whether context-compaction runs (an overflow then waits for it).
 */
export async function provisioning(run: TurnRun): Promise<StepResult> {
  const { bus, caches, config } = run.deps;
  const record = run.record;
  const changes: Partial<TurnRecord> = {};
  const model = await caches.model(record.provider, record.model);
  if (model) {
    changes.context_window = model.context_window;
    if (model.pricing) changes.pricing = model.pricing;
  }
  if (record.exposure === 'native')
    changes.native_tools = await buildNativeTools(bus, record, run.gate.isDenied, config.max_native_tools);
  if (await caches.budgetServes(config.budget_absence_grace_ms)) Object.assign(changes, await budgeted(run, model));
  if (await caches.registered(contracts.compaction.compactNow.id)) changes.compaction = true;
  return { outcome: 'provisioned', changes };
}

async function budgeted(run: TurnRun, model: Model | undefined): Promise<Partial<TurnRecord>> {
  const { caches, config } = run.deps;
  const record = run.record;
  const providerMax = await caches.providerMaxTokens(record.provider);
  const max_output_tokens = Math.min(
    record.max_output_tokens ?? config.budget_max_output_tokens,
    model?.max_output_tokens ?? Number.POSITIVE_INFINITY,
    providerMax ?? Number.POSITIVE_INFINITY,
  );
  const payer = record.workspace_id || record.agent_id ? {} : await payerOf(run);
  return { budget: true, max_output_tokens, ...payer };
}

/** The workspace and agent a session was created for (its metadata), if any; a session not created yet has none. */
async function payerOf(run: TurnRun): Promise<Pick<TurnRecord, 'workspace_id' | 'agent_id'>> {
  const { bus, config } = run.deps;
  const session = await run
    .patient(contracts.session.get.id, () =>
      bus.call(contracts.session.get, { session_id: run.sessionId }, { timeoutMs: config.call_timeout_ms }),
    )
    .then(
      ({ session }) => session,
      (error: unknown) => {
        if (error instanceof HarnessError && error.code === 'not_found') return undefined;
        throw error;
      },
    );
  const metadata = (session?.metadata ?? {}) as Record<string, unknown>;
  const id = (key: string) => {
    const value = metadata[key];
    return typeof value === 'string' && SCOPE_ID.test(value) ? { [key]: value } : {};
  };
  return { ...id('workspace_id'), ...id('agent_id') };
}

/** What llm-budget accepts as a scope id (`budgetScope`'s id). */
const SCOPE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
