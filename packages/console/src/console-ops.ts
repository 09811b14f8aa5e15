import { type Bus, HarnessError, type Logger } from '@iii-harness/runtime';
import { AGENT_EVENTS_STREAM, type AgentEvent, agentEvent, contracts, providerId, sessionId } from '@iii-harness/types';
import { z } from 'zod';
import type { ProviderHealth, ProviderStatus, ServerFrame, TurnSummary } from './protocol.js';

/**
 * What the page asks the console itself for (never registered on the bus; ids use dots so they
 * cannot be mistaken for bus functions): reads that combine several functions, and the titles a
 * person gives sessions in the console.
 */
export const localOps = {
  deleteSession: { id: 'console.delete_session', input: z.object({ session_id: sessionId }).strict() },
  providers: { id: 'console.providers', input: z.object({}).strict() },
  refreshModels: { id: 'console.refresh_models', input: z.object({ provider: providerId }).strict() },
  activity: { id: 'console.activity', input: z.object({ session_id: sessionId }).strict() },
  titles: { id: 'console.titles', input: z.object({}).strict() },
  rename: {
    id: 'console.rename',
    input: z
      .object({ session_id: sessionId, title: z.string().trim().max(200, 'a title has at most 200 characters') })
      .strict(),
  },
} as const;

export const TITLES_SCOPE = 'console_titles';

export class ConsoleOps {
  private readonly refreshes = new Map<string, { ok: boolean; at: number; message?: string }>();

  constructor(
    private readonly bus: () => Bus,
    private readonly broadcast: (frame: ServerFrame) => void,
    private readonly logger: Logger,
  ) {}

  async deleteSession(session_id: string): Promise<unknown> {
    const result = await this.bus().call(contracts.session.delete, { session_id });
    await this.bus()
      .state.delete(TITLES_SCOPE, session_id)
      .catch((error: unknown) => this.logger.warn({ err: error, session_id }, 'could not drop the title'));
    this.broadcast({ t: 'title', session_id, title: null });
    return result;
  }

  async titles(): Promise<{ titles: Array<{ session_id: string; title: string }> }> {
    const stored = await this.bus().state.list(TITLES_SCOPE);
    const titles = stored
      .map((value) => z.object({ session_id: z.string(), title: z.string() }).safeParse(value))
      .flatMap((parsed) => (parsed.success ? [parsed.data] : []));
    return { titles };
  }

  async rename(session_id: string, title: string): Promise<{ session_id: string; title: string | null }> {
    if (title === '') await this.bus().state.delete(TITLES_SCOPE, session_id);
    else await this.bus().state.set(TITLES_SCOPE, session_id, { session_id, title, updated_at: Date.now() });
    const now = title === '' ? null : title;
    this.broadcast({ t: 'title', session_id, title: now });
    return { session_id, title: now };
  }

  /** Every stored agent event of a session, in order (items that do not parse are skipped). */
  private async storedEvents(session_id: string): Promise<AgentEvent[]> {
    const items = await this.bus().stream.list(AGENT_EVENTS_STREAM, session_id);
    return items
      .flatMap((item) => {
        const parsed = agentEvent.safeParse(item);
        return parsed.success ? [parsed.data] : [];
      })
      .sort((a, b) => a.seq - b.seq);
  }

  /**
   * A session's turns (model, outcome, usage, cost) and, when its last turn has not completed,
   * that turn's events: what the page needs to show a streaming answer after a reload.
   */
  async activity(session_id: string): Promise<{ turns: TurnSummary[]; live: AgentEvent[]; last_seq: number }> {
    const events = await this.storedEvents(session_id);
    const turns = new Map<string, TurnSummary>();
    for (const event of events) {
      let turn = turns.get(event.turn_id);
      if (!turn) {
        turn = { turn_id: event.turn_id, first_seq: event.seq };
        turns.set(event.turn_id, turn);
      }
      if (event.type === 'turn_started')
        Object.assign(turn, { provider: event.provider, model: event.model, started_at: event.timestamp });
      if (event.type === 'turn_completed')
        turn.completed = {
          status: event.status,
          ...(event.reason ? { reason: event.reason } : {}),
          usage: event.usage,
          ...(event.cost_usd !== undefined ? { cost_usd: event.cost_usd } : {}),
          at: event.timestamp,
        };
    }
    const list = [...turns.values()];
    const last = list.at(-1);
    const live = last && !last.completed ? events.filter((e) => e.turn_id === last.turn_id) : [];
    return { turns: list, live, last_seq: events.at(-1)?.seq ?? 0 };
  }

  async refreshModels(provider: string): Promise<unknown> {
    try {
      const result = await this.bus().call(contracts.provider.refreshModels(provider), {}, { timeoutMs: 30_000 });
      this.refreshes.set(provider, { ok: true, at: Date.now() });
      return result;
    } catch (error) {
      const message = error instanceof HarnessError ? error.message : 'refresh failed';
      this.refreshes.set(provider, { ok: false, at: Date.now(), message });
      throw error;
    }
  }

  /** Providers with what makes each usable or not: its worker, its key, the catalog, the last refresh. */
  async providers(): Promise<{ providers: ProviderStatus[] }> {
    const bus = this.bus();
    const [declared, credentials, functions, catalog] = await Promise.all([
      bus.call(contracts.harness.providerList, {}),
      bus.call(contracts.auth.status, {}).catch(() => undefined),
      bus.call(contracts.engine.functionsList, { prefix: 'provider::' }),
      bus.call(contracts.models.list, {}).catch(() => ({ models: [] })),
    ]);
    const registered = new Set(functions.functions.map((f) => f.function_id));
    const providers = declared.providers.map((p): ProviderStatus => {
      const credential = credentials?.providers.find((c) => c.provider === p.id);
      const worker = registered.has(contracts.provider.stream(p.id).id);
      const lastRefresh = this.refreshes.get(p.id);
      const base = {
        id: p.id,
        display_name: p.display_name,
        kind: p.kind,
        ...(p.credential_env_var ? { credential_env_var: p.credential_env_var } : {}),
        supports_model_listing: p.supports_model_listing,
        worker,
        credential: credentials
          ? { configured: credential?.configured ?? false, source: credential?.source ?? null }
          : null,
        models: catalog.models.filter((m) => m.provider === p.id).length,
        ...(lastRefresh ? { last_refresh: lastRefresh } : {}),
      };
      return { ...base, ...health(base, lastRefresh) };
    });
    return { providers };
  }
}

function health(
  p: { kind: string; worker: boolean; credential: ProviderStatus['credential']; credential_env_var?: string },
  lastRefresh?: { ok: boolean; message?: string },
): { status: ProviderHealth; detail: string } {
  if (!p.worker) return { status: 'unreachable', detail: 'its worker is not connected to the engine' };
  if (lastRefresh && !lastRefresh.ok)
    return { status: 'unreachable', detail: `the last model refresh failed: ${lastRefresh.message ?? 'unknown'}` };
  if (p.kind === 'local') return { status: 'usable', detail: 'local server; no key needed' };
  if (p.credential === null)
    return { status: 'missing_key', detail: 'the credential vault (auth-credentials) is not running' };
  if (!p.credential.configured)
    return {
      status: 'missing_key',
      detail: `no key stored${p.credential_env_var ? ` and ${p.credential_env_var} is not set` : ''}`,
    };
  return {
    status: 'usable',
    detail: p.credential.source === 'stored' ? 'key stored in the vault' : 'key from the environment',
  };
}
