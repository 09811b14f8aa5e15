import { randomUUID } from 'node:crypto';
import type { WorkerSpec } from '@iii-harness/runtime';
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
  declarations: Array<Record<string, unknown>>;
  /** Payloads `models::reconcile` received. */
  reconciles: Array<{ provider: string; models: Array<Record<string, unknown>> }>;
  /** Every event any stream of this fixture delivered, and every error message (secrecy checks). */
  seen: { events: ProviderEvent[]; errors: string[] };
  setToken(token: string | undefined): void;
  /** A minimal valid stream request (fresh request_id), with overrides. */
  request(overrides?: Record<string, unknown>): Record<string, unknown>;
  stream(overrides?: Record<string, unknown>): Promise<ProviderStreamResult>;
  open(overrides?: Record<string, unknown>): ProviderStreamRun;
  call<T = unknown>(functionId: string, payload: unknown): Promise<T>;
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
    declarations: [] as Array<Record<string, unknown>>,
    reconciles: [] as ProviderFixture['reconciles'],
    seen: { events: [] as ProviderEvent[], errors: [] as string[] },
  } as ProviderFixture;

  // Payloads come from the worker under test: each stand-in states the shape it reads.
  const register = <P>(id: string, handler: (payload: P) => unknown) =>
    client.client.registerFunction(id, async (payload: unknown) => handler(payload as P));
  register('harness::provider::register', (declaration: Record<string, unknown>) => {
    fixture.declarations.push(declaration);
    return { registered: true };
  });
  register('harness::provider::list', () => ({ providers: fixture.declarations }));
  register('harness::provider::resolve', () => {
    if (fixture.harnessAbsent) throw new Error(`not_found: no provider registry (test stand-in)`);
    return {
      provider: options.providerId,
      api_url: options.apiUrl,
      max_tokens: options.maxTokens ?? 4_096,
      credential: fixture.token
        ? { configured: true, source: 'stored', token: fixture.token }
        : { configured: false, source: 'none' },
    };
  });
  register('models::reconcile', (payload: { provider: string; models: Array<{ id: string }> }) => {
    fixture.reconciles.push(payload);
    return {
      provider: payload.provider,
      count: payload.models.length,
      ids: payload.models.map((m) => m.id).sort(),
      added: [],
      removed: [],
      updated: [],
    };
  });
  await client.bus.call('engine::functions::list', { prefix: '__ready__' });

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
    call: (functionId: string, payload: unknown) =>
      client.bus.call(functionId, payload).catch((error: Error) => {
        fixture.seen.errors.push(error.message);
        throw error;
      }),
    close: async () => {
      await fixture.worker.shutdown();
      await client.close();
      await options.fake.close();
      await engine.close();
    },
  });
  return fixture;
}
