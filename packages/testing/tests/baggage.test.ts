import { createLogger, currentTurnContext, startWorker, type Worker } from '@iii-harness/runtime';
import { contract } from '@iii-harness/types';
import { z } from 'zod';
import { captureLogs, connectClient, type DevEngine, startDevEngine, type TestClient } from '../src/index.js';

// With OpenTelemetry on (iii-sdk's default), session_id / turn_id set by one handler reach the
// handlers of every nested trigger as W3C baggage, and each handler logs them.
const seen = z.object({ seen: z.record(z.string(), z.string()) });
const hops = {
  outer: contract({
    id: 'hops::outer',
    description: 'starts a turn and calls hops::middle',
    input: z.object({ session_id: z.string(), turn_id: z.string() }).strict(),
    output: seen,
  }),
  middle: contract({
    id: 'hops::middle',
    description: 'calls hops::inner without passing ids',
    input: z.object({}).strict(),
    output: seen,
  }),
  inner: contract({
    id: 'hops::inner',
    description: 'reports the turn context',
    input: z.object({}).strict(),
    output: seen,
  }),
};

let engine: DevEngine;
let client: TestClient;
let worker: Worker<Record<string, never>>;
const logs = captureLogs();

beforeAll(async () => {
  engine = await startDevEngine();
  worker = await startWorker(
    {
      name: 'hops',
      description: 'nested calls',
      config: z.object({}).strict(),
      register(w) {
        w.function(hops.outer, async (_i, { bus }) => bus.call(hops.middle, {}));
        w.function(hops.middle, async (_i, { bus, logger }) => {
          logger.info('middle hop');
          return bus.call(hops.inner, {});
        });
        w.function(hops.inner, () => ({ seen: { ...currentTurnContext() } }));
      },
    },
    { url: engine.url, otel: true, logger: createLogger({ worker: 'hops', level: 'info', destination: logs.stream }) },
  );
  client = await connectClient(engine.url);
});

afterAll(async () => {
  await client.close();
  await worker.shutdown();
  await engine.close();
});

it('carries session_id and turn_id through two nested triggers', async () => {
  const result = await client.bus.call(hops.outer, { session_id: 'sess-1', turn_id: 'turn-9' });
  expect(result).toEqual({ seen: { session_id: 'sess-1', turn_id: 'turn-9' } });
  expect(logs.lines().find((line) => line.msg === 'middle hop')).toMatchObject({
    worker: 'hops',
    function_id: 'hops::middle',
    session_id: 'sess-1',
    turn_id: 'turn-9',
  });
});
