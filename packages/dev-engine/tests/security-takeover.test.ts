/**
 * Issue 10, finding 2: a second registration used to take a function over (v0.22.1's last
 * writer wins), so a rogue local client could answer `policy::check_permissions` with "allow".
 * Now the v0.23 rule holds: an id held by a live connection (or by the engine) is refused to
 * anyone else with `registrationrejected` (FUNCTION_NAMESPACE_CONFLICT); once the holder's
 * connection is gone, the id is free again — including for the same worker reconnecting.
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import type { Router } from '../src/router.js';
import {
  connectWorker,
  quietSdk,
  RawClient,
  startTestEngine,
  waitFor,
  waitForFunction,
} from './helpers/conformance.js';

let engine: RunningEngine;
let caller: IIIClient;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  caller = connectWorker(engine.url, 'caller');
});

afterAll(async () => {
  await caller.shutdown();
  await engine.close();
});

const check = () => caller.trigger({ function_id: 'policy::check_permissions', payload: { tool: 'rm' } });

test('a rogue registration of a live function is refused; the owner keeps answering', async () => {
  const policy = connectWorker(engine.url, 'policy');
  policy.registerFunction('policy::check_permissions', async () => ({ decision: 'deny' }));
  await waitForFunction(caller, 'policy::check_permissions');
  const policyId = await waitFor(
    () => [...(engine.api as Router).connections.values()].find((c) => c.info.name === 'policy')?.id,
  );

  const rogue = await RawClient.connect(engine.url);
  rogue.send({ type: 'registerfunction', id: 'policy::check_permissions' });
  const rejection = await rogue.next((f) => f.type === 'registrationrejected');
  expect(rejection).toEqual({
    type: 'registrationrejected',
    code: 'FUNCTION_NAMESPACE_CONFLICT',
    namespace: 'default',
    worker_name: 'policy::check_permissions',
    function_id: 'policy::check_permissions',
    owner_worker_id: policyId,
  });
  // The rogue never sees a call, and keeps its connection (the refusal is not fatal).
  for (let i = 0; i < 5; i++) await expect(check()).resolves.toEqual({ decision: 'deny' });
  expect(rogue.frames.some((f) => f.type === 'invokefunction')).toBe(false);
  rogue.send({ type: 'ping' });
  await rogue.next((f) => f.type === 'pong');

  // Unregistering is owner-only too: the rogue cannot remove it either.
  rogue.send({ type: 'unregisterfunction', id: 'policy::check_permissions' });
  await expect(check()).resolves.toEqual({ decision: 'deny' });
  await rogue.close();
  await policy.shutdown();
});

test('builtins cannot be taken over', async () => {
  const rogue = await RawClient.connect(engine.url);
  rogue.send({ type: 'registerfunction', id: 'state::get' });
  await expect(rogue.next((f) => f.type === 'registrationrejected')).resolves.toMatchObject({
    function_id: 'state::get',
    owner_worker_id: 'engine',
  });
  await caller.trigger({ function_id: 'state::set', payload: { scope: 's', key: 'k', value: 1 } });
  await expect(caller.trigger({ function_id: 'state::get', payload: { scope: 's', key: 'k' } })).resolves.toBe(1);
  await rogue.close();
});

test('once the owner is gone, a restarted worker registers the same id', async () => {
  const first = connectWorker(engine.url, 'policy');
  first.registerFunction('policy::check_permissions', async () => ({ decision: 'first' }));
  await waitFor(async () => (await check().catch(() => undefined)) !== undefined);
  await first.shutdown();

  const restarted = connectWorker(engine.url, 'policy');
  restarted.registerFunction('policy::check_permissions', async () => ({ decision: 'restarted' }));
  await waitFor(
    async () => ((await check().catch(() => undefined)) as { decision?: string })?.decision === 'restarted',
  );
  await restarted.shutdown();
});

test('a raw client that closes and reconnects at once gets its id back', async () => {
  const a = await RawClient.connect(engine.url);
  a.send({ type: 'registerfunction', id: 'quick::fn' });
  await waitForFunction(caller, 'quick::fn');
  await a.close();
  const b = await RawClient.connect(engine.url);
  b.send({ type: 'registerfunction', id: 'quick::fn' });
  const call = caller.trigger({ function_id: 'quick::fn', payload: {} });
  const invoke = await b.next((f) => f.type === 'invokefunction' && f.function_id === 'quick::fn');
  b.send({ type: 'invocationresult', invocation_id: invoke.invocation_id, function_id: 'quick::fn', result: 'b' });
  await expect(call).resolves.toBe('b');
  expect(b.frames.some((f) => f.type === 'registrationrejected')).toBe(false);
  await b.close();
});

test('an SDK worker whose socket drops reconnects (reattach) and keeps serving its functions', async () => {
  const worker = connectWorker(engine.url, 'flaky');
  worker.registerFunction('flaky::fn', async () => 'still me');
  await waitForFunction(caller, 'flaky::fn');
  const router = engine.api as Router;
  const before = [...router.connections.values()].find((c) => c.info.name === 'flaky')!;
  before.ws.terminate(); // a network drop: the SDK reconnects and replays its registrations
  await waitFor(() => [...router.connections.values()].some((c) => c.info.name === 'flaky' && c !== before));
  await waitFor(
    async () => (await caller.trigger({ function_id: 'flaky::fn', payload: {} }).catch(() => '')) === 'still me',
  );
  const owner = router.functions.get('flaky::fn');
  expect(owner?.kind === 'remote' && owner.owner !== before).toBe(true);
  await worker.shutdown();
});
