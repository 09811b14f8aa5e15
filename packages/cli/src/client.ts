import { randomUUID } from 'node:crypto';
import { type Bus, type CallOptions, HarnessError } from '@iii-harness/runtime';
import {
  AGENT_EVENTS_STREAM,
  type AgentEvent,
  agentEvent,
  type Budget,
  type BudgetScope,
  type BudgetUsage,
  type CallScopes,
  type Contract,
  type ContractInput,
  type ContractOutput,
  contracts,
  type Model,
  type SpanTreeNode,
  type StoredLog,
  type TraceGroup,
  type TurnView,
} from '@iii-harness/types';
import type { IIIClient } from 'iii-sdk';
import { type Connection, connectEngine, connectionState } from './connect.js';
import { CliError } from './errors.js';

/**
 * Every bus call the CLI makes, in one place, each through its contract (`@iii-harness/types`).
 */

export type Hold = ContractOutput<typeof contracts.approval.listPending>['pending'][number];
export type SessionTree = ContractOutput<typeof contracts.session.tree>;
export type ProviderInfo = ContractOutput<typeof contracts.harness.providerList>['providers'][number];
export type CredentialStatus = ContractOutput<typeof contracts.auth.status>['providers'][number];
export type SendResult = ContractOutput<typeof contracts.harness.send>;
export type ApprovalMode = ContractInput<typeof contracts.approval.setMode>['mode'];
export type ExportFormat = 'jsonl' | 'markdown' | 'html';
export type BudgetCreate = ContractInput<typeof contracts.budget.create>;
export type BudgetUpdate = ContractInput<typeof contracts.budget.update>;

/** Absent (not an error) when the answer is `not_found` for the thing itself, not for the function. */
async function orUndefined<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof HarnessError && error.code === 'not_found' && error.reason !== 'function_not_found')
      return undefined;
    throw error;
  }
}

/** Which worker serves a namespace: for "is not running" messages. */
const OWNERS: Record<string, string> = {
  harness: 'harness',
  policy: 'harness',
  ui: 'harness',
  approval: 'approval-gate',
  run: 'turn-orchestrator',
  turn: 'turn-orchestrator',
  session: 'session',
  models: 'models-catalog',
  auth: 'auth-credentials',
  compaction: 'context-compaction',
  budget: 'llm-budget',
};

export const isMissingFunction = (error: unknown): boolean =>
  (error instanceof HarnessError && error.reason === 'function_not_found') ||
  (error instanceof CliError && error.name === 'WorkerMissing');

/** A call to a function nobody serves becomes one line naming the worker to start. */
function explain(functionId: string, error: unknown): unknown {
  if (!(error instanceof HarnessError && error.reason === 'function_not_found')) return error;
  const owner = OWNERS[functionId.split('::')[0] ?? ''] ?? 'its';
  const missing = new CliError(
    `${functionId} is not available: the ${owner} worker is not running (\`iii-harness dev\` starts it; \`iii-harness logs ${owner}\` says why it stopped)`,
  );
  missing.name = 'WorkerMissing';
  return missing;
}

export class HarnessClient {
  readonly bus: Bus;
  readonly client: IIIClient;

  constructor(readonly connection: Connection) {
    this.bus = connection.bus;
    this.client = connection.client;
  }

  static async connect(url: string): Promise<HarnessClient> {
    return new HarnessClient(await connectEngine(url));
  }

  get url(): string {
    return this.connection.url;
  }

  /** `connected`, `reconnecting`, ... (undefined when the SDK does not say). */
  state(): string | undefined {
    return connectionState(this.client);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private async call<C extends Contract>(
    contract: C,
    payload: ContractInput<C>,
    options?: CallOptions,
  ): Promise<ContractOutput<C>> {
    try {
      return await this.bus.call(contract, payload, options);
    } catch (error) {
      throw explain(contract.id, error);
    }
  }

  // --- turns -------------------------------------------------------------------------------

  send(input: {
    session_id?: string;
    text: string;
    provider?: string;
    model?: string;
    idempotency_key?: string;
  }): Promise<SendResult> {
    return this.call(contracts.harness.send, { idempotency_key: randomUUID(), ...input }, { timeoutMs: 60_000 });
  }

  abort(sessionId: string): Promise<{ aborted: boolean; turn_id?: string }> {
    return this.call(contracts.run.abort, { session_id: sessionId });
  }

  /** The session's current or last turn; undefined when it never had one. */
  turnState(sessionId: string): Promise<TurnView | undefined> {
    return orUndefined(this.call(contracts.turn.getState, { session_id: sessionId }));
  }

  // --- approvals ---------------------------------------------------------------------------

  async pendingHolds(sessionId?: string): Promise<Hold[]> {
    const { pending: holds } = await this.call(
      contracts.approval.listPending,
      sessionId ? { session_id: sessionId } : {},
    );
    return holds;
  }

  resolve(
    sessionId: string,
    callId: string,
    decision: 'allow' | 'deny',
    options: { reason?: string; always?: boolean } = {},
  ): Promise<{ decision: string; already_resolved: boolean }> {
    return this.call(contracts.approval.resolve, {
      session_id: sessionId,
      function_call_id: callId,
      decision,
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.always ? { always: true } : {}),
    });
  }

  setMode(sessionId: string, mode: ApprovalMode) {
    return this.call(contracts.approval.setMode, { session_id: sessionId, mode });
  }

  approvalSettings(sessionId: string) {
    return this.call(contracts.approval.getSettings, { session_id: sessionId });
  }

  // --- sessions ----------------------------------------------------------------------------

  listSessions(limit = 50) {
    return this.call(contracts.session.list, { limit });
  }

  /** undefined when there is no such session. */
  async getSession(sessionId: string) {
    return (await orUndefined(this.call(contracts.session.get, { session_id: sessionId })))?.session;
  }

  messages(sessionId: string) {
    return this.call(contracts.session.messages, { session_id: sessionId });
  }

  tree(sessionId: string): Promise<SessionTree> {
    return this.call(contracts.session.tree, { session_id: sessionId });
  }

  fork(sessionId: string, entryId: string) {
    return this.call(contracts.session.fork, { session_id: sessionId, entry_id: entryId });
  }

  setLeaf(sessionId: string, entryId: string | null) {
    return this.call(contracts.session.setLeaf, { session_id: sessionId, entry_id: entryId });
  }

  exportSession(sessionId: string, format: ExportFormat) {
    return this.call(contracts.session.export, { session_id: sessionId, format });
  }

  deleteSession(sessionId: string) {
    return this.call(contracts.session.delete, { session_id: sessionId });
  }

  // --- models, providers, credentials, policy -----------------------------------------------

  async models(provider?: string): Promise<Model[]> {
    return (await this.call(contracts.models.list, provider ? { provider } : {})).models;
  }

  async providers(): Promise<ProviderInfo[]> {
    return (await this.call(contracts.harness.providerList, {})).providers;
  }

  async credentials(): Promise<CredentialStatus[]> {
    return (await this.call(contracts.auth.status, {})).providers;
  }

  setToken(provider: string, token: string) {
    return this.call(contracts.auth.setToken, { provider, token });
  }

  /** Whether the harness has a valid policy loaded (it denies everything with rule `no_policy` otherwise). */
  async policyLoaded(): Promise<boolean> {
    const decision = await this.call(contracts.policy.checkPermissions, {
      function_id: 'iii-harness-cli::policy_probe',
      args: {},
    });
    return !(decision.decision === 'deny' && decision.rule_id === 'no_policy');
  }

  compactionAvailable(): Promise<boolean> {
    return this.isRegistered(contracts.compaction.compactSession.id);
  }

  /** `/compact [instructions]`; the summary is written by the session's last model unless one is named. */
  compact(sessionId: string, instructions?: string) {
    return this.call(
      contracts.compaction.compactSession,
      { session_id: sessionId, ...(instructions ? { instructions } : {}) },
      { timeoutMs: 330_000 },
    );
  }

  // --- budgets (llm-budget) ------------------------------------------------------------------

  /** Whether llm-budget serves its functions (without it, turns run without spending caps). */
  budgetsAvailable(): Promise<boolean> {
    return this.isRegistered(contracts.budget.usage.id);
  }

  async budgets(scope?: BudgetScope): Promise<Budget[]> {
    return (await this.call(contracts.budget.list, scope ? { scope } : {})).budgets;
  }

  /** undefined when there is no such budget. */
  async budget(budgetId: string): Promise<Budget | undefined> {
    return (await orUndefined(this.call(contracts.budget.get, { budget_id: budgetId })))?.budget;
  }

  async createBudget(input: BudgetCreate): Promise<Budget> {
    return (await this.call(contracts.budget.create, input)).budget;
  }

  async updateBudget(input: BudgetUpdate): Promise<Budget> {
    return (await this.call(contracts.budget.update, input)).budget;
  }

  async setBudgetAlerts(budgetId: string, thresholds: number[]): Promise<Budget> {
    return (await this.call(contracts.budget.alertSet, { budget_id: budgetId, thresholds_pct: thresholds })).budget;
  }

  deleteBudget(budgetId: string) {
    return this.call(contracts.budget.delete, { budget_id: budgetId });
  }

  /** Spend and what is left in the current period: of one budget, or of every budget covering the scopes. */
  async budgetUsage(of: { budget_id: string } | { scopes: CallScopes }): Promise<BudgetUsage[]> {
    return (await this.call(contracts.budget.usage, of)).usage;
  }

  budgetForecast(budgetId: string) {
    return this.call(contracts.budget.forecast, { budget_id: budgetId });
  }

  /** Every budget with its usage now (one call per budget: llm-budget has no bulk usage). */
  async budgetsWithUsage(scope?: BudgetScope): Promise<Array<{ budget: Budget; usage: BudgetUsage }>> {
    const budgets = await this.budgets(scope);
    const usages = await Promise.all(budgets.map((b) => this.budgetUsage({ budget_id: b.budget_id })));
    return budgets.flatMap((budget, i) => (usages[i]?.[0] ? [{ budget, usage: usages[i][0] }] : []));
  }

  // --- the engine's catalog ----------------------------------------------------------------

  /** Registered functions with the worker that owns each. */
  async functions(): Promise<Array<{ function_id: string; worker_name?: string }>> {
    return (await this.call(contracts.engine.functionsList, {})).functions;
  }

  async isRegistered(functionId: string): Promise<boolean> {
    try {
      await this.call(contracts.engine.functionsInfo, { function_id: functionId });
      return true;
    } catch (error) {
      if (error instanceof HarnessError && error.code === 'not_found') return false;
      throw error;
    }
  }

  // --- traces and logs (the engine's observability functions) ---------------------------------

  /** Traces grouped by the value of a span attribute, newest first. */
  async traceGroups(attribute: string, limit = 1_000): Promise<TraceGroup[]> {
    return (await this.call(contracts.engine.tracesGroupBy, { attribute, limit })).groups;
  }

  /** One trace's spans as a tree (no roots when the engine has none of its spans). */
  async traceTree(traceId: string): Promise<SpanTreeNode[]> {
    return (await this.call(contracts.engine.tracesTree, { trace_id: traceId })).roots;
  }

  /** Log records of one trace, newest first. */
  async traceLogs(traceId: string, limit = 1_000): Promise<StoredLog[]> {
    return (await this.call(contracts.engine.logsList, { trace_id: traceId, limit })).logs;
  }

  // --- agent events --------------------------------------------------------------------------

  /** Every stored agent event of a session, in sequence order (items that do not parse are skipped). */
  async agentEvents(sessionId: string): Promise<AgentEvent[]> {
    const items =
      (await this.call(contracts.engine.streamList, { stream_name: AGENT_EVENTS_STREAM, group_id: sessionId })) ?? [];
    const events: AgentEvent[] = [];
    for (const item of items) {
      const parsed = agentEvent.safeParse(item);
      if (parsed.success) events.push(parsed.data);
    }
    return events.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Follow a session's agent events as they are written: a `stream` trigger on `agent::events`
   * for this one group, delivered to a function of this client. iii-sdk registers both again
   * after a reconnect; what was written meanwhile comes from `agentEvents` (see EventFeed).
   */
  followAgentEvents(sessionId: string, onEvent: (event: AgentEvent) => void): { stop(): void } {
    const functionId = `iii-harness-cli::events::${randomUUID()}`;
    const fn = this.client.registerFunction(
      functionId,
      async (delivery: { event?: { type?: string; data?: unknown } }) => {
        const data = delivery?.event?.type === 'delete' ? undefined : delivery?.event?.data;
        const parsed = agentEvent.safeParse(data);
        if (parsed.success) onEvent(parsed.data);
        return {};
      },
      { description: 'iii-harness CLI: agent events of the session on screen', metadata: { internal: true } },
    );
    const trigger = this.client.registerTrigger({
      type: 'stream',
      function_id: functionId,
      config: { stream_name: AGENT_EVENTS_STREAM, group_id: sessionId },
    });
    return {
      stop() {
        trigger.unregister();
        fn.unregister();
      },
    };
  }

  /** Resolves once the engine has handled what this client sent before (frames of one socket are in order). */
  async sync(): Promise<void> {
    await this.call(contracts.engine.functionsList, { prefix: 'iii-harness-cli::__sync__' });
  }
}
