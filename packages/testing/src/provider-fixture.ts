import { randomUUID } from 'node:crypto';
import { HarnessError, type WorkerSpec } from '@iii-harness/runtime';
import {
  type Contract,
  type ContractInput,
  type ContractOutput,
  contracts,
  type ProviderDeclaration,
} from '@iii-harness/types';
import { z } from 'zod';
import { type DevEngine, startDevEngine } from './engine.js';
import type { FakeVendorServer } from './fake-vendors/server.js';
import {
  openProviderStream,
  type ProviderEvent,
  type ProviderStreamResult,
  type ProviderStreamRun,
  streamFromProvider,
} from './provider-stream.js';
import { connectClient, startTestWorker, type TestClient, type TestWorker } from './workers.js';

export interface ProviderFixtureOptions<C> {
  providerId: string;
  spec: WorkerSpec<C>;
  /** The started fake vendor server. */
  fake: FakeVendorServer;
  /** The worker's config section (base_url, tiny retry delays…). */
  config: Record<string, unknown>;
  /** What the `harness::provider::resolve` stand-in answers as `api_url`. */
  apiUrl: string;
  /** The credential the resolve stand-in hands out (`setToken` changes it). */
  token?: string;
  maxTokens?: number;
  /** The model requests use by default. */
  model: string;
}

/** Everything a provider's integration test needs, with stand-ins for the harness and the catalog. */
export interface ProviderFixture {
  engine: DevEngine;
  client: TestClient;
  worker: TestWorker<unknown>;
  fake: FakeVendorServer;
  providerId: string;
  model: string;
  token: string | undefined;
  /** When true the resolve stand-in answers `not_found`, as if no harness ran (the worker falls back to env). */
  harnessAbsent: boolean;
  /** Payloads `harness::provider::register` received. */
  declarations: ProviderDeclaration[];
  /** Payloads `models::reconcile` received. */
  reconciles: Array<{ provider: string; models: Array<Record<string, unknown>> }>;
  /** The worker serving the harness and catalog stand-ins. */
  standIns: TestWorker<unknown>;
  /** Every event any stream of this fixture delivered, and every error message (secrecy checks). */
  seen: { events: ProviderEvent[]; errors: string[] };
  setToken(token: string | undefined): void;
  /** A minimal valid stream request (fresh request_id), with overrides. */
  request(overrides?: Record<string, unknown>): Record<string, unknown>;
  stream(overrides?: Record<string, unknown>): Promise<ProviderStreamResult>;
  open(overrides?: Record<string, unknown>): ProviderStreamRun;
  /** Call through a contract (the reply is checked against it). */
  call<C extends Contract>(contract: C, payload: ContractInput<C>): Promise<ContractOutput<C>>;
  /** Poke the wire by id, for payloads no contract would let through. */
  invoke(functionId: string, payload: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Dev engine + a test client holding stand-ins for `harness::provider::register|list|resolve` and
 * `models::reconcile` + the provider worker under test, pointed at a fake vendor server.
 */
export async function startProviderFixture<C>(options: ProviderFixtureOptions<C>): Promise<ProviderFixture> {
  const engine = await startDevEngine();
  const client = await connectClient(engine.url, `${options.providerId}-test-client`);
  const fixture = {
    engine,
    client,
    fake: options.fake,
    providerId: options.providerId,
    model: options.model,
    token: options.token,
    harnessAbsent: false,
    declarations: [] as ProviderDeclaration[],
    reconciles: [] as ProviderFixture['reconciles'],
    seen: { events: [] as ProviderEvent[], errors: [] as string[] },
  } as ProviderFixture;

  // The stand-ins serve the real contracts, so what the worker under test sends and reads is checked both ways.
  fixture.standIns = (await startTestWorker(
    {
      name: `${options.providerId}-stand-ins`,
      description: 'harness provider registry and models catalog stand-ins',
      config: z.object({}),
      register: (worker) => {
        worker.function(contracts.harness.providerRegister, (declaration) => {
          fixture.declarations.push(declaration);
          return { ok: true as const, id: declaration.id };
        });
        worker.function(contracts.harness.providerList, () => ({
          providers: fixture.declarations.map((d) => ({
            ...d,
            registered_at: 0,
            api_url: options.apiUrl,
            max_tokens: options.maxTokens ?? 4_096,
          })),
        }));
        worker.function(contracts.harness.providerResolve, ({ provider }) => {
          if (fixture.harnessAbsent) throw new HarnessError('not_found', 'no provider registry (test stand-in)');
          return {
            provider,
            kind: fixture.declarations.find((d) => d.id === provider)?.kind ?? 'cloud',
            api_url: options.apiUrl,
            max_tokens: options.maxTokens ?? 4_096,
            credential: fixture.token
              ? { configured: true, source: 'stored' as const, token: fixture.token }
              : { configured: false, source: 'none' as const },
          };
        });
        worker.function(contracts.models.reconcile, ({ provider, models }) => {
          fixture.reconciles.push({ provider, models: models as Array<Record<string, unknown>> });
          return {
            provider,
            count: models.length,
            ids: models.map((m) => m.id).sort(),
            added: [],
            removed: [],
            updated: [],
          };
        });
      },
    },
    { url: engine.url },
  )) as TestWorker<unknown>;

  // Tests change the stand-in's credential between requests, so settings are resolved every time.
  fixture.worker = (await startTestWorker(options.spec, {
    url: engine.url,
    config: { settings_ttl_ms: 0, ...options.config },
  })) as TestWorker<unknown>;
  const remember = (result: ProviderStreamResult) => {
    fixture.seen.events.push(...result.events);
    if (result.error) fixture.seen.errors.push(result.error.message);
    return result;
  };
  Object.assign(fixture, {
    setToken: (token: string | undefined) => {
      fixture.token = token;
    },
    request: (overrides: Record<string, unknown> = {}) => ({
      request_id: randomUUID(),
      model: options.model,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Say hello.' }],
      ...overrides,
    }),
    stream: (overrides?: Record<string, unknown>) =>
      streamFromProvider(client.bus, options.providerId, fixture.request(overrides)).then(remember),
    open: (overrides?: Record<string, unknown>) => {
      const run = openProviderStream(client.bus, options.providerId, fixture.request(overrides));
      void run.finished.then(remember);
      return run;
    },
    call: <C extends Contract>(contract: C, payload: ContractInput<C>) =>
      client.bus.call(contract, payload).catch((error: Error) => {
        fixture.seen.errors.push(error.message);
        throw error;
      }),
    invoke: (functionId: string, payload: unknown) =>
      client.bus.invoke(functionId, payload).catch((error: Error) => {
        fixture.seen.errors.push(error.message);
        throw error;
      }),
    close: async () => {
      await fixture.worker.shutdown();
      await fixture.standIns.shutdown();
      await client.close();
      await options.fake.close();
      await engine.close();
    },
  });
  return fixture;
}
