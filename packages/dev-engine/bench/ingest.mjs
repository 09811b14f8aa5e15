// Telemetry ingestion benchmark: how many spans per second the dev engine stores from the
// SDK's `/otel` socket, and what steady span traffic costs the calls that run meanwhile.
//
//   npm run bench:ingest -w @iii-harness/dev-engine      (builds dist/ first)
//   node bench/ingest.mjs [--out results.json] [--profile]   (--profile: engine under --cpu-prof)
//
// Two processes: the engine (dist/main.js, file-backed data dir) and this one. Frames are
// shaped like iii-sdk 0.22.1's exporter output (OTLP JSON, 100 spans per frame as its
// BatchSpanProcessor sends them, each span with the SDK's input/output payload events and the
// baggage attributes a harness turn carries).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, platform, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const outFile = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
const SPANS_PER_FRAME = 100;
const BURST_FRAMES = 500; // 50,000 spans
const STEADY_SPANS_PER_SECOND = 2_000;
const RTT_BLOCKS = 10;
const RTT_BLOCK_MS = 1000;

const hex = (n, width) => n.toString(16).padStart(width, '0');
const traceId = (n) => hex(Math.floor(n / 10) + 1, 32);
const round = (x) => Math.round(x * 1000) / 1000;

const dataDir = mkdtempSync(join(tmpdir(), 'dev-engine-ingest-'));
let engine;
try {
  const results = await main();
  console.log(JSON.stringify(results, null, 2));
  if (outFile) writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  engine?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);

async function main() {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const engineArgs = [join(here, '..', 'dist', 'main.js'), '--port', String(port), '--http-port', '0'];
  engineArgs.push('--data-dir', dataDir, '--log-level', 'warn');
  if (argv.includes('--profile')) engineArgs.unshift('--cpu-prof', `--cpu-prof-dir=${join(here, 'profiles')}`);
  engine = spawn(process.execPath, engineArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  const client = await protocolClient(url);
  await client.call('engine::traces::clear', {});
  const otel = new WebSocket(`${url}/otel`, { perMessageDeflate: false });
  await new Promise((resolve) => otel.once('open', resolve));

  // Burst: frames sent as fast as the socket takes them; done when the engine has stored them all.
  const frames = Array.from({ length: BURST_FRAMES }, (_, i) => frame(i));
  const bytes = frames.reduce((n, f) => n + f.length, 0);
  const start = performance.now();
  for (const f of frames) otel.send(f);
  await until(async () => (await ingested(client)) >= BURST_FRAMES * SPANS_PER_FRAME);
  const burstMs = performance.now() - start;
  const stored = (await client.call('engine::health::check', {})).result.components.spans.details.stored_spans;

  // Query cost on a full store.
  const queries = {};
  for (const [name, id, input] of [
    ['list', 'engine::traces::list', { limit: 100 }],
    ['group_by', 'engine::traces::group_by', { attribute: 'iii.session.id' }],
    ['tree', 'engine::traces::tree', { trace_id: traceId(0) }],
  ]) {
    const t = performance.now();
    for (let i = 0; i < 10; i++) await client.call(id, input);
    queries[name] = round((performance.now() - t) / 10);
  }

  // Round trips of a builtin call without and with steady span traffic alongside, in
  // alternating blocks so machine noise hits both alike.
  await roundTripsFor(client, 500); // warm-up
  const quietSamples = [];
  const busySamples = [];
  let sent = 0;
  const sendOne = () => {
    otel.send(frame(1000 + sent));
    sent++;
  };
  for (let block = 0; block < RTT_BLOCKS; block++) {
    quietSamples.push(...(await roundTripsFor(client, RTT_BLOCK_MS)));
    const ticker = setInterval(sendOne, (1000 * SPANS_PER_FRAME) / STEADY_SPANS_PER_SECOND);
    busySamples.push(...(await roundTripsFor(client, RTT_BLOCK_MS)));
    clearInterval(ticker);
  }
  const quiet = summarize(quietSamples);
  const busy = summarize(busySamples);

  otel.close();
  client.close();
  if (argv.includes('--profile')) {
    engine.kill('SIGINT'); // --cpu-prof writes the profile on a clean exit
    await new Promise((resolve) => engine.once('exit', resolve));
  }
  return {
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      platform: `${platform()} ${release()}`,
    },
    burst: {
      spans: BURST_FRAMES * SPANS_PER_FRAME,
      frame_kib: round(bytes / BURST_FRAMES / 1024),
      ms: round(burstMs),
      spans_per_second: Math.round((BURST_FRAMES * SPANS_PER_FRAME) / (burstMs / 1000)),
      stored_after_retention: stored,
    },
    query_ms_on_full_store: queries,
    builtin_rtt_ms: {
      quiet,
      with_spans_per_second: STEADY_SPANS_PER_SECOND,
      busy,
      p50_increase_pct: round(((busy.p50 - quiet.p50) / quiet.p50) * 100),
    },
  };
}

async function ingested(client) {
  const reply = await client.call('engine::health::check', {});
  return reply.result.components.otel.details.ingestion.spans;
}

/** Sequential builtin calls for `ms` milliseconds; their round-trip times. */
async function roundTripsFor(client, ms) {
  const samples = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await client.call('state::get', { scope: 'bench', key: 'missing' });
    samples.push(performance.now() - t);
  }
  return samples;
}

function summarize(samples) {
  samples.sort((a, b) => a - b);
  const at = (q) => round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** One OTLP frame of SPANS_PER_FRAME spans: ten traces of ten nested spans each. */
function frame(index) {
  const now = Date.now();
  const spans = [];
  for (let i = 0; i < SPANS_PER_FRAME; i++) {
    const n = index * SPANS_PER_FRAME + i;
    const payload = JSON.stringify({ session_id: `s${index % 50}`, text: 'x'.repeat(200) });
    spans.push({
      traceId: traceId(n),
      spanId: hex(n + 1, 16),
      ...(n % 10 !== 0 && { parentSpanId: hex(n, 16) }),
      name: `execute bench::step${i % 10}`,
      kind: 1,
      startTimeUnixNano: `${now}000000`,
      endTimeUnixNano: `${now + 2}000000`,
      attributes: [
        { key: 'iii.session.id', value: { stringValue: `s${index % 50}` } },
        { key: 'iii.message.id', value: { stringValue: `m${index}` } },
      ],
      droppedAttributesCount: 0,
      events: [
        {
          name: 'iii.invocation.input',
          timeUnixNano: `${now}000000`,
          attributes: [{ key: 'iii.payload.json', value: { stringValue: payload } }],
          droppedAttributesCount: 0,
        },
        {
          name: 'iii.invocation.output',
          timeUnixNano: `${now + 1}000000`,
          attributes: [{ key: 'iii.payload.json', value: { stringValue: '{"ok":true}' } }],
          droppedAttributesCount: 0,
        },
      ],
      droppedEventsCount: 0,
      status: { code: 1 },
      links: [],
      droppedLinksCount: 0,
    });
  }
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }], droppedAttributesCount: 0 },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  };
  return Buffer.concat([Buffer.from('OTLP'), Buffer.from(JSON.stringify(body))]);
}

async function protocolClient(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waiting = new Map();
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === 'invocationresult') waiting.get(f.invocation_id)?.(f);
  });
  return {
    call: (function_id, data) =>
      new Promise((resolve) => {
        const invocation_id = crypto.randomUUID();
        waiting.set(invocation_id, (f) => {
          waiting.delete(invocation_id);
          resolve(f);
        });
        ws.send(JSON.stringify({ type: 'invokefunction', invocation_id, function_id, data }));
      }),
    close: () => ws.close(),
  };
}

async function until(check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('bench: timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port) {
  await until(
    () =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}`);
        ws.once('open', () => {
          ws.close();
          resolve(true);
        });
        ws.once('error', () => resolve(false));
      }),
    20_000,
  );
}
