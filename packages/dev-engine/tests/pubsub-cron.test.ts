/**
 * Conformance: publish/subscribe and cron triggers.
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';

let engine: RunningEngine;
let w: IIIClient;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  w = connectWorker(engine.url, 'pubsub-cron');
});

afterAll(async () => {
  await w.shutdown();
  await engine.close();
});

test('publish delivers data only (no metadata) to every subscriber of the topic', async () => {
  const got: Array<[string, unknown, unknown]> = [];
  w.registerFunction('sub::one', async (d: unknown, m: unknown) => void got.push(['one', d, m]));
  w.registerFunction('sub::two', async (d: unknown, m: unknown) => void got.push(['two', d, m]));
  w.registerTrigger({
    type: 'subscribe',
    function_id: 'sub::one',
    config: { topic: 'news' },
    metadata: { ignored: true },
  });
  w.registerTrigger({ type: 'subscribe', function_id: 'sub::two', config: { topic: 'news' } });
  w.registerTrigger({ type: 'subscribe', function_id: 'sub::two', config: { topic: 'other' } });
  await waitForFunction(w, 'sub::two');
  await sleep(50);
  await expect(
    w.trigger({ function_id: 'publish', payload: { topic: 'news', data: { headline: 'x' } } }),
  ).resolves.toBeUndefined();
  await waitFor(() => got.length === 2);
  await sleep(50);
  expect(got.sort()).toEqual([
    ['one', { headline: 'x' }, undefined],
    ['two', { headline: 'x' }, undefined],
  ]);
});

test('publish with an empty topic fails with topic_not_set', async () => {
  await expect(w.trigger({ function_id: 'publish', payload: { topic: '', data: 1 } })).rejects.toMatchObject({
    code: 'topic_not_set',
  });
  await expect(w.trigger({ function_id: 'publish', payload: { data: 1 } })).rejects.toMatchObject({
    code: 'topic_not_set',
  });
});

test('cron with a seconds-first "* * * * * *" fires every second with the engine payload and metadata', async () => {
  const fires: Array<{ event: any; metadata: unknown }> = [];
  w.registerFunction('cron::tick', async (event: any, metadata: unknown) => void fires.push({ event, metadata }));
  const trigger = w.registerTrigger({
    type: 'cron',
    function_id: 'cron::tick',
    config: { expression: '* * * * * *' },
    metadata: { job: 'tick' },
  });
  await waitFor(() => fires.length >= 2, { timeoutMs: 4000 });
  trigger.unregister();
  const { event, metadata } = fires[0]!;
  expect(metadata).toEqual({ job: 'tick' });
  expect(event).toEqual({
    trigger: 'cron',
    job_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    scheduled_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/),
    actual_time: expect.stringMatching(/\+00:00$/),
  });
  const [a, b] = fires.map((f) => Date.parse(f.event.scheduled_time));
  expect(b! - a!).toBe(1000);
  await sleep(300);
  const count = fires.length;
  await sleep(1100);
  expect(fires.length).toBe(count); // unregistered: no more runs
});

test('cron runs of one job never overlap', async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  w.registerFunction('cron::slow', async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await sleep(1050);
    running--;
    runs++;
  });
  const trigger = w.registerTrigger({ type: 'cron', function_id: 'cron::slow', config: { expression: '* * * * * *' } });
  await waitFor(() => runs >= 2, { timeoutMs: 6000 });
  trigger.unregister();
  expect(maxRunning).toBe(1);
});
