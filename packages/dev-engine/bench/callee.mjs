// Bench worker B: the invocation target (`bench::echo`), the enqueue target (`bench::enqueued`,
// which records enqueue-to-handler latency), a raw WebSocket echo server on `echoPort` (so the
// SDK round trip and the raw echo run between the same two processes) and the echo backend of
// the relay baseline (bench/relay.mjs).
import { registerWorker, TriggerAction } from 'iii-sdk';
import WebSocket, { WebSocketServer } from 'ws';

const [engineUrl, echoPort, relayUrl] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();

const echo = new WebSocketServer({ host: '127.0.0.1', port: Number(echoPort), perMessageDeflate: false });
echo.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
const relayBackend = relayUrl ? new WebSocket(`${relayUrl}/backend`, { perMessageDeflate: false }) : undefined;
relayBackend?.on('message', (data, isBinary) => relayBackend.send(data, { binary: isBinary }));
relayBackend?.on('error', (error) => console.error(`bench callee: relay connection failed: ${error.message}`));

// The same target without the SDK: a bare WebSocket speaking the engine protocol, so the bench
// can separate the engine's own cost from the SDK's.
const rawWorker = new WebSocket(engineUrl, { perMessageDeflate: false });
rawWorker.on('open', () => rawWorker.send(JSON.stringify({ type: 'registerfunction', id: 'bench::raw_echo' })));
rawWorker.on('message', (data) => {
  const frame = JSON.parse(data.toString());
  if (frame.type !== 'invokefunction') return;
  rawWorker.send(
    JSON.stringify({
      type: 'invocationresult',
      invocation_id: frame.invocation_id,
      function_id: frame.function_id,
      result: frame.data,
    }),
  );
});

const worker = registerWorker(engineUrl, {
  workerName: 'bench-callee',
  otel: { enabled: false },
  enableMetricsReporting: false,
});

let latencies = [];
let handled = 0;
worker.registerFunction('bench::echo', async (data) => data);
// Latency jobs carry `t` (enqueue start, epoch ms) and ask for an ack; burst jobs are only counted.
worker.registerFunction('bench::enqueued', async (data) => {
  handled++;
  if (data.t !== undefined) latencies.push(now() - data.t);
  if (data.ack !== undefined)
    worker.trigger({ function_id: 'bench::ack', payload: { i: data.ack }, action: TriggerAction.Void() });
  return null;
});
worker.registerFunction('bench::take_latencies', async () => {
  const taken = latencies;
  latencies = [];
  return { latencies: taken, handled };
});

const stop = async () => {
  await worker.shutdown();
  echo.close();
  relayBackend?.close();
  rawWorker.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
