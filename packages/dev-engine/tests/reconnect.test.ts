/**
 * Conformance: an SDK worker whose socket drops reconnects, reattaches, replays its
 * registrations (same trigger ids), and works again.
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import type { Router } from '../src/router.js';
import { connectWorker, quietSdk, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';

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

function connectionOf(name: string) {
  return [...(engine.api as Router).connections.values()].find((c) => c.info.name === name);
}

test('after its socket is killed the SDK reconnects, reattaches and re-registers', async () => {
  const worker = connectWorker(engine.url, 'flaky');
  const events: unknown[] = [];
  worker.registerFunction('flaky::echo', async (d: unknown) => d);
  worker.registerFunction('flaky::on_state', async (e: unknown) => void events.push(e));
  worker.registerTrigger({ type: 'state', function_id: 'flaky::on_state', config: { scope: 'flaky' } });
  await waitForFunction(caller, 'flaky::echo');
  const before = await waitFor(() => connectionOf('flaky'));
  const listTriggers = async () =>
    (
      (await caller.trigger({
        function_id: 'engine::registered-triggers::list',
        payload: { function_id: 'flaky::on_state' },
      })) as { registered_triggers: Array<{ id: string }> }
    ).registered_triggers;
  const triggerIdsBefore = (
    await waitFor(async () => ((await listTriggers()).length ? listTriggers() : undefined))
  ).map((t) => t.id);

  before.ws.terminate(); // the engine side drops the socket
  const after = await waitFor(() => {
    const c = connectionOf('flaky');
    return c && c !== before ? c : undefined;
  });
  expect(after.id).not.toBe(before.id);
  await waitFor(
    async () =>
      (await caller.trigger({ function_id: 'flaky::echo', payload: { n: 1 } }).catch(() => undefined)) !== undefined,
  );
  await expect(caller.trigger({ function_id: 'flaky::echo', payload: { n: 2 } })).resolves.toMatchObject({ n: 2 });

  // The trigger came back with the same id, and fires again.
  await waitFor(async () => (await listTriggers()).length === 1);
  expect((await listTriggers()).map((t) => t.id)).toEqual(triggerIdsBefore);
  await caller.trigger({ function_id: 'state::set', payload: { scope: 'flaky', key: 'k', value: 1 } });
  await waitFor(() => events.length === 1);
  await worker.shutdown();
});

test('reattach: the SDK sends reattach first, and the engine evicts the old connection', async () => {
  const worker = connectWorker(engine.url, 'reattacher');
  worker.registerFunction('reattacher::fn', async () => 'ok');
  await waitForFunction(caller, 'reattacher::fn');
  const before = await waitFor(() => connectionOf('reattacher'));
  // Make the SDK see a dead socket while the engine still thinks it is connected: the engine only
  // learns about the old connection from the reattach frame of the new one.
  const sdkSocket = (worker as unknown as { ws: { terminate(): void; _socket: { destroy(): void } } }).ws;
  before.ws.removeAllListeners('close');
  sdkSocket.terminate();
  await waitFor(() => {
    const c = connectionOf('reattacher');
    return c && c !== before ? c : undefined;
  });
  expect(before.cleanedUp).toBe(true); // evicted by the reattach, not by a close event
  await expect(caller.trigger({ function_id: 'reattacher::fn', payload: {} })).resolves.toBe('ok');
  await worker.shutdown();
});
