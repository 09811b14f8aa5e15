import { subscribeHook, type WorkerSpec } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { z } from 'zod';
import { type Config, hookFanoutWorker } from '../src/index.js';

/**
 * Collection windows are versioned: one written before windows carried `v` (version 1, today's
 * shape; an older copy's publish in flight) is read through the worker as it is; one of a newer
 * version is refused with a clear error, and the sweep leaves it alone.
 */
const { hookFanout, engine: builtins } = contracts;
const SCOPE = 'hook_fanout_windows';
const LONG_AGO = Date.now() - 24 * 3_600_000;

let engine: DevEngine;
let fanout: TestWorker<Config>;
let client: TestClient;

beforeAll(async () => {
  engine = await startDevEngine();
  fanout = await startTestWorker(hookFanoutWorker, { url: engine.url });
  client = await connectClient(engine.url);
});

afterAll(async () => {
  await client.close();
  await fanout.shutdown();
  await engine.close();
});

const put = (key: string, value: unknown) => client.bus.call(builtins.stateSet, { scope: SCOPE, key, value });
const stored = (key: string) => client.bus.call(builtins.stateGet, { scope: SCOPE, key });

describe('stored windows are versioned', () => {
  it('takes a reply into a window written before versions, and sweeps such a window once it is old', async () => {
    const now = Date.now();
    await put('old-open', { hook_id: 'old-open', topic: 't', expected: 2, deadline: now + 60_000, opened_at: now });
    expect(
      await client.bus.call(hookFanout.reply, { hook_id: 'old-open', subscriber: 's1', reply: { ok: 1 } }),
    ).toEqual({ accepted: true });
    expect(await stored('old-open')).toMatchObject({ replies: [{ subscriber: 's1', reply: { ok: 1 } }] });
    await put('old-closed', { hook_id: 'old-closed', deadline: now, opened_at: now, closed: true, replies: [] });
    expect(await client.bus.call(hookFanout.reply, { hook_id: 'old-closed', reply: 'late' })).toEqual({
      accepted: false,
    });

    await put('old-dead', { hook_id: 'old-dead', deadline: LONG_AGO + 1_000, opened_at: LONG_AGO, replies: [] });
    expect(await client.bus.call(hookFanout.sweep, {})).toEqual({ removed: 1 });
    expect(await stored('old-dead')).toBeUndefined();
  });

  it('refuses a window of a newer version with a clear error; the sweep leaves it as it was', async () => {
    const future = { v: 99, hook_id: 'future', deadline: LONG_AGO + 1_000, opened_at: LONG_AGO, shape: 'new' };
    await put('future', future);
    expect(await client.bus.call(hookFanout.sweep, {})).toEqual({ removed: 0 });
    expect(await stored('future')).toEqual(future);
    await expect(client.bus.call(hookFanout.reply, { hook_id: 'future', reply: 'x' })).rejects.toMatchObject({
      code: 'unavailable',
      reason: 'unsupported_record_version',
      message:
        'hook window at hook_fanout_windows/future has version 99; this worker reads versions up to 1 (upgrade the worker)',
    });
  });

  it('stamps the windows it opens', async () => {
    // The subscriber looks at the windows while its hook is being collected.
    const seen: unknown[] = [];
    const spec: WorkerSpec<unknown> = {
      name: 'peek',
      description: 'hook subscriber',
      config: z.object({}),
      register: (w) =>
        subscribeHook(w, {
          topic: 'peek::topic',
          function_id: 'peek::windows',
          handler: async () => {
            seen.push(...((await client.bus.call(builtins.stateList, { scope: SCOPE })) ?? []));
            return { ok: true };
          },
        }),
    };
    const peek = await startTestWorker(spec, { url: engine.url });
    try {
      const result = await client.bus.call(hookFanout.publishCollect, {
        topic: 'peek::topic',
        payload: {},
        merge_rule: 'field_merge',
      });
      expect(result.replies).toHaveLength(1);
      expect(seen).toContainEqual(expect.objectContaining({ v: 1, hook_id: result.hook_id, topic: 'peek::topic' }));
    } finally {
      await peek.shutdown();
    }
  });
});
