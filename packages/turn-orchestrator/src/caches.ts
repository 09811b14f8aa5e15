import type { Bus, Logger } from '@iii-harness/runtime';
import { contracts, type Model } from '@iii-harness/types';

/**
 * A value per key, kept for `ttlMs` after it was loaded; concurrent askers share one load, and a
 * load that fails is not kept. For answers that change rarely and cost a round trip each time.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { until: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = load();
    this.entries.set(key, { until: now + this.ttlMs, value });
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

/** Where the orchestrator notes when it last saw llm-budget registered. */
const BUDGET_SEEN = { scope: 'turn_orchestrator_workers', key: 'llm-budget' };

/**
 * What the orchestrator asks the bus about other than the turn itself, remembered by the worker for
 * a short time: a model's limits and price (`catalog_ttl_ms`), and which hook topics have
 * subscribers (`hooks_ttl_ms`: a new subscriber is heard from within that time).
 */
export class WorkerCaches {
  private readonly models: TtlCache<Model | undefined>;
  private readonly hooks: TtlCache<Set<string> | undefined>;
  private readonly functions: TtlCache<Set<string> | undefined>;
  private readonly providers: TtlCache<Map<string, number> | undefined>;
  private readonly budgetSeen: TtlCache<number | undefined>;
  private budgetNotedAt = 0;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
    ttl: { catalog_ttl_ms: number; hooks_ttl_ms: number; functions_ttl_ms: number },
  ) {
    this.models = new TtlCache(ttl.catalog_ttl_ms);
    this.hooks = new TtlCache(ttl.hooks_ttl_ms);
    this.functions = new TtlCache(ttl.functions_ttl_ms);
    this.providers = new TtlCache(ttl.catalog_ttl_ms);
    this.budgetSeen = new TtlCache(ttl.functions_ttl_ms);
  }

  /**
   * Whether llm-budget serves this stack: registered now, or seen registered within `graceMs` (a
   * worker restarting is absent for a moment; a turn starting then must still be checked). Being
   * seen is noted in engine state, so an orchestrator restarted meanwhile knows it too.
   */
  async budgetServes(graceMs: number): Promise<boolean> {
    const now = Date.now();
    if (await this.registered(contracts.budget.reserve.id)) {
      if (graceMs > 0 && now - this.budgetNotedAt >= Math.min(10_000, graceMs / 2)) {
        this.budgetNotedAt = now;
        await this.bus
          .call(contracts.engine.stateSet, { ...BUDGET_SEEN, value: { seen_at: now } }, { timeoutMs: 5_000 })
          .catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'could not note llm-budget'));
      }
      return true;
    }
    if (graceMs === 0) return false;
    const seenAt = await this.budgetSeen.get('seen', () =>
      this.bus.call(contracts.engine.stateGet, BUDGET_SEEN, { timeoutMs: 5_000 }).then(
        (value) => (value as { seen_at?: number } | null | undefined)?.seen_at,
        () => undefined,
      ),
    );
    return seenAt !== undefined && now - seenAt < graceMs;
  }

  /**
   * Whether a function is registered on the engine right now (as of `functions_ttl_ms` ago): how
   * the turn learns that an optional worker (context-compaction, llm-budget) runs, at no cost per
   * turn. False when the engine's list cannot be read.
   */
  async registered(functionId: string): Promise<boolean> {
    const ids = await this.functions.get('all', () =>
      this.bus.call(contracts.engine.functionsList, {}, { timeoutMs: 5_000 }).then(
        ({ functions }) => new Set(functions.map((f) => f.function_id)),
        (error: unknown) => {
          this.logger.warn({ err: (error as Error).message }, 'could not list the registered functions');
          return undefined;
        },
      ),
    );
    return ids?.has(functionId) ?? false;
  }

  /** The max tokens a provider sends when a request names none (its declaration and config), if known. */
  async providerMaxTokens(provider: string): Promise<number | undefined> {
    const byId = await this.providers.get('all', () =>
      this.bus.call(contracts.harness.providerList, {}, { timeoutMs: 5_000 }).then(
        ({ providers }) => new Map(providers.map((p) => [p.id, p.max_tokens])),
        () => undefined,
      ),
    );
    return byId?.get(provider);
  }

  /** The catalog's entry for a model, or undefined (not registered, or no catalog: logged, never fatal). */
  model(provider: string, modelId: string): Promise<Model | undefined> {
    return this.models.get(`${provider}\u0000${modelId}`, () =>
      this.bus.call(contracts.models.get, { provider, model_id: modelId }, { timeoutMs: 5_000 }).then(
        ({ model }) => model,
        (error: unknown) => {
          this.logger.warn(
            { err: (error as Error).message, provider, model: modelId },
            'no catalog entry for the model: its context window and price are unknown to this turn',
          );
          return undefined;
        },
      ),
    );
  }

  /**
   * Whether anyone subscribes to a hook topic. Undefined (catalogue unreadable) means "maybe": the
   * hook is then published and hook-fanout decides.
   */
  async hasSubscribers(topic: string): Promise<boolean> {
    const topics = await this.hooks.get('durable:subscriber', () =>
      this.bus
        .call(contracts.engine.registeredTriggersList, { trigger_type: 'durable:subscriber' }, { timeoutMs: 5_000 })
        .then(
          ({ registered_triggers }) =>
            new Set(
              registered_triggers.map((t) => {
                const config = (t.config ?? {}) as { topic?: unknown; queue?: unknown };
                return String(config.topic ?? config.queue);
              }),
            ),
          () => undefined,
        ),
    );
    return topics === undefined || topics.has(topic);
  }
}
