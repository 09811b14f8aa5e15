import type { WorkerSpec } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contract, contracts, uiPushFunctionId } from '@iii-harness/types';
import { type Config, configSchema } from '../src/index.js';
import { createUi, relayed, sweepUiClients } from '../src/ui.js';
import { fanoutAgentEvent } from '../src/ui-fanout.js';
import { uiSubscribe, uiUnsubscribe } from '../src/ui-subscribe.js';

/**
 * Two engines, each with its copy of the harness and its UI clients, stood up on one engine: copy
 * A and copy B serve the UI functions under `a::*` / `b::*`, share the subscription scope and the
 * relay topic, and each counts only its own engine's clients as here (a1 on A, b1 and b2 on B).
 * An agent event fires the stream trigger on the engine it was written on only, so each copy
 * follows its own stream (`ev_a` / `ev_b`): writing to `ev_a` is writing on engine A.
 */
const { harness, ui } = contracts;
const ON: Record<string, string[]> = { a: ['a1'], b: ['b1', 'b2'] };

function copyOf(x: 'a' | 'b'): WorkerSpec<Config> {
  return {
    name: x,
    description: `harness copy ${x}`,
    config: configSchema,
    async register(worker) {
      const parts = createUi(worker, { fanoutId: `${x}::fanout`, isHere: (c) => ON[x]!.includes(c) });
      worker.function(contract({ ...ui.subscribe, id: `${x}::subscribe` }), uiSubscribe(parts));
      worker.function(contract({ ...ui.unsubscribe, id: `${x}::unsubscribe` }), uiUnsubscribe(parts));
      worker.function(contract({ ...harness.uiFanout, id: `${x}::fanout` }), fanoutAgentEvent(parts.fanout));
      worker.function(contract({ ...harness.uiRelay, id: `${x}::relay` }), relayed(parts));
      worker.trigger({
        type: 'subscribe',
        function_id: `${x}::relay`,
        config: { topic: worker.config.ui_relay_topic },
      });
      worker.function(contract({ ...harness.uiSweep, id: `${x}::sweep` }), sweepUiClients(parts, worker.config));
      await parts.start();
    },
  };
}
// Refreshes are slow here: what a copy learns, it learns from the relay topic.
const configOf = (x: string) => ({
  agent_events_stream: `ev_${x}`,
  ui_refresh_ms: 600_000,
  ui_client_ttl_ms: 60_000,
  permissions_path: '/nonexistent/iii-permissions.yaml',
});

let engine: DevEngine;
let copies: Record<'a' | 'b', TestWorker<Config>>;
const clients: Record<string, TestClient> = {};
const seen: Record<string, Array<{ session_id: string; event: { n: number } }>> = { a1: [], b1: [], b2: [] };

beforeAll(async () => {
  engine = await startDevEngine();
  for (const id of ['a1', 'b1', 'b2']) {
    const c = await connectClient(engine.url, `ui-${id}`);
    c.client.registerFunction(uiPushFunctionId(id), async (push: { session_id: string; event: { n: number } }) => {
      seen[id]!.push(push);
      return {};
    });
    clients[id] = c;
  }
  await clients.a1!.bus.call(contracts.engine.functionsList, {});
  copies = {
    a: await startTestWorker(copyOf('a'), { url: engine.url, config: configOf('a') }),
    b: await startTestWorker(copyOf('b'), { url: engine.url, config: configOf('b') }),
  };
}, 60_000);

afterAll(async () => {
  for (const c of Object.values(clients)) await c.close().catch(() => undefined);
  await copies?.a.shutdown();
  await copies?.b.shutdown();
  await engine?.close();
});

const client = () => clients.a1!.bus;
let n = 0;
/** An agent event written on engine `x`. */
const writeOn = (x: string, session: string) =>
  client().call(contracts.engine.streamSet, {
    stream_name: `ev_${x}`,
    group_id: session,
    item_id: `e${++n}`,
    data: { type: 'turn_state_changed', session_id: session, seq: n, n },
  });
const ns = (id: string, session: string) => seen[id]!.filter((p) => p.session_id === session).map((p) => p.event.n);
const subscribe = (x: string, client_id: string, session_id: string | null) =>
  clients[client_id]!.bus.invoke(`${x}::subscribe`, { client_id, session_id });
const subscribed = async () =>
  ((await client().state.list('harness_ui_subscriptions')) as Array<{ client_id: string }>)
    .map((s) => s.client_id)
    .sort();

it('delivers an event written on one engine to the followers on both: directly here, relayed there', async () => {
  await subscribe('a', 'a1', 's1');
  await subscribe('b', 'b1', 's1');
  // B announced b1's subscription; once A has heard, A relays what is written on its engine.
  await eventually(async () => {
    await writeOn('a', 's1');
    expect(ns('b1', 's1').length).toBeGreaterThan(0);
  });
  const written: number[] = [];
  for (let i = 0; i < 10; i++) {
    await writeOn(i % 2 ? 'a' : 'b', 's1');
    written.push(n);
  }
  await eventually(() => {
    expect(ns('a1', 's1')).toEqual(expect.arrayContaining(written));
    expect(ns('b1', 's1')).toEqual(expect.arrayContaining(written));
  });
  // Each client got each event once: from its own engine's copy, never from both.
  for (const id of ['a1', 'b1']) expect(new Set(ns(id, 's1')).size).toBe(ns(id, 's1').length);
  expect(ns('b2', 's1')).toEqual([]);
});

it("never evicts another engine's client, and the client's own copy evicts it once it is gone", async () => {
  await subscribe('b', 'b2', 's2');
  await eventually(async () => {
    await writeOn('a', 's2');
    expect(ns('b2', 's2').length).toBeGreaterThan(0);
  });
  // A has been fanning out to s2 all along; b2 is not on its engine, so it never pushed (or evicted).
  expect(await subscribed()).toContain('b2');
  expect(copies.a.logs.text()).not.toContain('evicting');
  await clients.b2!.close();
  await eventually(async () => {
    await writeOn('a', 's2');
    expect(await subscribed()).not.toContain('b2');
  });
  expect(copies.b.logs.text()).toContain('UI client has gone away; evicting it');
  expect(copies.a.logs.text()).not.toContain('evicting');
});

it('applies an unsubscribe made through the other copy', async () => {
  await subscribe('a', 'a1', 's3');
  await eventually(async () => {
    await writeOn('b', 's3');
    expect(ns('a1', 's3').length).toBeGreaterThan(0);
  });
  await clients.a1!.bus.invoke('a::unsubscribe', { client_id: 'a1', session_id: 's3' });
  // B hears of it: events written on B for s3 are no longer relayed for a1.
  await eventually(async () => {
    const before = ns('a1', 's3').length;
    await writeOn('b', 's3');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ns('a1', 's3').length).toBe(before);
  });
});

it('forgets clients no copy has seen for the TTL (by hand here; one copy per scheduled run on the cron)', async () => {
  const old = Date.now() - 3_600_000;
  await client().state.set('harness_ui_subscriptions', 'ghost', {
    client_id: 'ghost',
    all: true,
    session_ids: [],
    updated_at: old,
    seen_at: old,
  });
  expect(await clients.a1!.bus.invoke('b::sweep', {})).toEqual({ removed: 1 });
  expect(await subscribed()).not.toContain('ghost');
  expect(await subscribed()).toContain('a1');
});
