import {
  type ChildProc,
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { type ContractInput, contracts, type Model } from '@iii-harness/types';
import { type Config, createLlmBudgetWorker } from '../src/index.js';
import { spawnCatalog } from './processes.js';

/** $3 / $15 per million tokens, cache reads $0.30, cache writes $3.75 (the dearest input). */
export const priced: Model = {
  id: 'priced-model',
  provider: 'test',
  context_window: 200_000,
  max_output_tokens: 64_000,
  capabilities: ['tools'],
  pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
};
export const unpriced: Model = { ...priced, id: 'local-model', pricing: undefined };

/** The worst case of one call of `priced`, in µ$: 1,000 prompt tokens at $3.75/M + 1,000 output tokens at $15/M. */
export const W = 3_750 + 15_000;

type ReserveInput = ContractInput<typeof contracts.budget.reserve>;

/** A `budget::reserve` of one call of `priced` in a workspace: 1,000 prompt tokens, up to 1,000 output. */
export const reserveArgs = (workspace_id: string, extra: Partial<ReserveInput> = {}): ReserveInput => ({
  scopes: { workspace_id },
  provider: 'test',
  model: 'priced-model',
  input_tokens: 1_000,
  max_output_tokens: 1_000,
  ...extra,
});

/** A movable clock for the in-process budget worker. */
export class Clock {
  constructor(public ms = Date.UTC(2026, 2, 10, 12, 0, 0)) {}
  now = () => this.ms;
  advance(ms: number) {
    this.ms += ms;
  }
}

export interface Stack {
  engine: DevEngine;
  /** models-catalog, as its own process. */
  catalog: ChildProc;
  budget?: TestWorker<Config>;
  client: TestClient;
  clock: Clock;
  /** Call a function by id with any payload (bad input included); the reply unchecked. */
  invoke<T = any>(id: string, payload: unknown): Promise<T>;
  close(): Promise<void>;
}

/** models-catalog as a process, registered (its catalog lives in engine state: a restart keeps it). */
export async function startCatalog(engine: DevEngine, client: TestClient): Promise<ChildProc> {
  const catalog = spawnCatalog(engine.url);
  await eventually(
    async () => {
      if (!catalog.alive) throw new Error(`models-catalog exited:\n${catalog.tail()}`);
      for (const { id } of Object.values(contracts.models))
        await client.bus.call(contracts.engine.functionsInfo, { function_id: id });
    },
    { timeoutMs: 30_000, intervalMs: 25 },
  );
  return catalog;
}

/** A dev engine, models-catalog (seeded), optionally llm-budget in this process, and a client. */
export async function startStack(
  options: { budget?: boolean; config?: Partial<Config>; models?: Model[] } = {},
): Promise<Stack> {
  const engine = await startDevEngine();
  const client = await connectClient(engine.url);
  const catalog = await startCatalog(engine, client);
  await client.bus.call(contracts.models.reconcile, { provider: 'test', models: options.models ?? [priced, unpriced] });
  const clock = new Clock();
  const budget =
    options.budget === false
      ? undefined
      : await startTestWorker(createLlmBudgetWorker({ now: clock.now }), {
          url: engine.url,
          config: { sweep_interval_ms: 0, ...options.config },
        });
  const stack: Stack = {
    engine,
    catalog,
    budget,
    client,
    clock,
    invoke: async (id, payload) => (await client.bus.invoke(id, payload)) as any,
    async close() {
      await client.close();
      await stack.budget?.shutdown();
      await stack.catalog.stop();
      await engine.close();
    },
  };
  return stack;
}
