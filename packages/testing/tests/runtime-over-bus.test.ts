import { HarnessError, type WorkerSpec } from '@iii-harness/runtime';
import { contract, contracts } from '@iii-harness/types';
import { z } from 'zod';
import { connectClient, type DevEngine, startDevEngine, startTestWorker, type TestClient } from '../src/index.js';

// The runtime's contract, end to end over real WebSockets: errors keep their codes, inputs are
// validated before handlers run, schemas are published, turn ids travel as baggage.
const calls: string[] = [];
const demoContracts = {
  busy: contract({
    id: 'demo::busy',
    description: 'always conflicts',
    input: z.object({ session_id: z.string() }).strict(),
    output: z.object({}),
  }),
  crash: contract({
    id: 'demo::crash',
    description: 'throws an unexpected error',
    input: z.object({}).strict(),
    output: z.object({}),
  }),
  flaky: contract({
    id: 'demo::flaky',
    description: 'fails with a provider error the caller may retry, or one it may not',
    input: z.object({ retryable: z.boolean() }).strict(),
    output: z.object({}),
  }),
  drifted: contract({
    id: 'demo::drifted',
    description: 'answers a shape its callers do not expect',
    input: z.object({}).strict(),
    output: z.object({ count: z.number() }),
  }),
};
/** What the callers of demo::drifted believe it returns (its server's contract has drifted). */
const callersView = contract({ ...demoContracts.drifted, output: z.object({ count: z.string() }) });

const demo: WorkerSpec<Record<string, never>> = {
  name: 'demo',
  description: 'runtime conformance',
  config: z.object({}).strict(),
  register(worker) {
    worker.function(demoContracts.busy, () => {
      calls.push('busy');
      throw new HarnessError('conflict', 'a turn is already running', { reason: 'session_busy' });
    });
    worker.function(demoContracts.crash, () => {
      throw new Error('secret-db-password leaked in a stack');
    });
    worker.function(demoContracts.flaky, ({ retryable }) => {
      throw new HarnessError('provider_error', 'the vendor is overloaded', { reason: 'overloaded', retryable });
    });
    worker.function(demoContracts.drifted, () => ({ count: 3 }));
  },
};

let engine: DevEngine;
let client: TestClient;
let shutdown: () => Promise<void>;

beforeAll(async () => {
  engine = await startDevEngine();
  const worker = await startTestWorker(demo, { url: engine.url });
  shutdown = async () => {
    await worker.shutdown();
  };
  client = await connectClient(engine.url);
});

afterAll(async () => {
  await client.close();
  await shutdown();
  await engine.close();
});

it('delivers a HarnessError with its code and reason, and no stack', async () => {
  const error = (await client.bus
    .call(demoContracts.busy, { session_id: 's1' })
    .catch((e: unknown) => e)) as HarnessError;
  expect(error).toBeInstanceOf(HarnessError);
  expect(error).toMatchObject({ code: 'conflict', reason: 'session_busy', message: 'a turn is already running' });
  const raw = await client.client
    .trigger({ function_id: 'demo::busy', payload: { session_id: 's1' } })
    .catch((e: { stacktrace?: string; message: string }) => e);
  expect(raw).toMatchObject({ code: 'invocation_failed', stacktrace: undefined });
});

it('rejects invalid input with invalid_payload before the handler runs', async () => {
  calls.length = 0;
  await expect(client.bus.invoke('demo::busy', { session_id: 7 })).rejects.toMatchObject({ code: 'invalid_payload' });
  await expect(client.bus.invoke('demo::busy', { session_id: 's', extra: 1 })).rejects.toMatchObject({
    code: 'invalid_payload',
  });
  expect(calls).toEqual([]);
});

it('turns unknown errors into internal without their message', async () => {
  const error = (await client.bus.call(demoContracts.crash, {}).catch((e: unknown) => e)) as HarnessError;
  expect(error.code).toBe('internal');
  expect(error.message).not.toContain('secret-db-password');
});

it('maps a missing function to not_found', async () => {
  await expect(client.bus.invoke('demo::nope', {})).rejects.toMatchObject({
    code: 'not_found',
    reason: 'function_not_found',
  });
});

it('publishes description and JSON Schemas through engine::functions::info', async () => {
  const info = await client.bus.call(contracts.engine.functionsInfo, { function_id: 'demo::busy' });
  expect(info).toMatchObject({
    description: 'always conflicts',
    request_schema: { type: 'object', required: ['session_id'] },
    response_schema: { type: 'object' },
  });
});

it('carries retryable across the wire, both ways', async () => {
  const retry = (await client.bus
    .call(demoContracts.flaky, { retryable: true })
    .catch((e: unknown) => e)) as HarnessError;
  expect(retry).toMatchObject({ code: 'provider_error', reason: 'overloaded', retryable: true });
  expect(retry.message).toBe('the vendor is overloaded');
  const final = (await client.bus
    .call(demoContracts.flaky, { retryable: false })
    .catch((e: unknown) => e)) as HarnessError;
  expect(final).toMatchObject({ code: 'provider_error', retryable: false });
});

it("fails a reply that breaks the caller's contract as internal, naming the function", async () => {
  const error = (await client.bus.call(callersView, {}).catch((e: unknown) => e)) as HarnessError;
  expect(error).toBeInstanceOf(HarnessError);
  expect(error.code).toBe('internal');
  expect(error.message).toContain('demo::drifted');
  expect(error.message).toContain('count');
  // The same reply is accepted by the contract it matches.
  await expect(client.bus.call(demoContracts.drifted, {})).resolves.toEqual({ count: 3 });
});
