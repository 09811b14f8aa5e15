#!/usr/bin/env node
// Streaming passthrough benchmark, one run for every wire format in cases/*.mjs, bounded to 60 s,
// loopback only. Needs built packages: `npm run build`, then `node bench/provider-stream/run.mjs`.
//   --no-write   print the results without updating docs/benchmarks.md
//   --json       print raw numbers as JSON
import { readdirSync } from 'node:fs';
import { Bus } from '@iii-harness/runtime';
import { openProviderStream } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { registerWorker } from 'iii-sdk';
import { startEngine, startFake, startWorker, stopAll } from './lib/processes.mjs';
import { renderSection, writeSection } from './lib/report.mjs';
import { ABORT_MODE, MODES, tokensIn } from './lib/scenarios.mjs';
import { percentile, round, timing } from './lib/stats.mjs';

const args = new Set(process.argv.slice(2));
const BUDGET_MS = 55_000;
const began = performance.now();
const casesDir = new URL('./cases/', import.meta.url);

process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});
try {
  const results = await main();
  const section = renderSection(results, performance.now() - began);
  if (args.has('--json')) console.log(JSON.stringify(results, null, 2));
  console.log(section);
  if (!args.has('--no-write')) writeSection(section);
} finally {
  stopAll();
}
process.exit(0);

async function main() {
  const files = readdirSync(casesDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  const cases = await Promise.all(
    files.map(async (f) => ({ file: new URL(f, casesDir).pathname, ...(await import(new URL(f, casesDir))).default })),
  );
  const engine = await startEngine();
  const client = registerWorker(engine.url, {
    workerName: 'bench-reader',
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 30_000,
  });
  const bus = new Bus(client);
  const settings = new Map();
  // Stand-ins for the harness registry and the catalog, as the real harness would answer.
  client.registerFunction(contracts.harness.providerResolve.id, async ({ provider }) => settings.get(provider));
  // Their replies match the contracts.
  client.registerFunction(contracts.harness.providerRegister.id, async ({ id }) => ({ ok: true, id }));
  client.registerFunction(contracts.models.reconcile.id, async ({ provider, models }) => ({
    provider,
    count: models.length,
    ids: models.map((m) => m.id),
    added: [],
    removed: [],
    updated: [],
  }));
  await bus.call(contracts.engine.functionsList, { prefix: '__ready__' });

  const results = [];
  const perCase = BUDGET_MS / Math.max(1, cases.length);
  for (const benchCase of cases) {
    const fake = await startFake(benchCase.file);
    settings.set(benchCase.providerId, {
      provider: benchCase.providerId,
      kind: 'cloud',
      api_url: benchCase.apiUrl(fake.url),
      max_tokens: 4096,
      credential: { configured: true, source: 'stored', token: benchCase.token },
    });
    const worker = startWorker(benchCase.worker(fake.url), engine.url);
    await until(() =>
      bus.call(contracts.engine.functionsInfo, { function_id: contracts.provider.stream(benchCase.providerId).id }),
    );
    const direct = benchCase.createDirect(fake.url);
    const viaBus = (model, onToken) => busStream(bus, benchCase.providerId, model, onToken);
    const deadline = performance.now() + perCase;
    for (let i = 0; i < 10; i++) {
      await direct(MODES.ttft.model, () => undefined);
      await viaBus(MODES.ttft.model, () => undefined);
    } // warm-up
    const modes = {};
    for (const [name, mode] of Object.entries(MODES)) modes[name] = await measureMode(mode, direct, viaBus, deadline);
    const abort = await measureAbort(bus, benchCase.providerId);
    results.push({ id: benchCase.id, wireFormat: benchCase.wireFormat, modes, abort });
    worker.kill('SIGTERM');
    fake.child.kill('SIGTERM');
  }
  return results;
}

/** Alternate direct and via-bus runs of one mode, so both see the same machine noise. */
async function measureMode(mode, direct, viaBus, deadline) {
  // Two unmeasured runs first: the first long streams of a mode still run cold code in every process.
  for (let i = 0; i < 2; i++) for (const consume of [direct, viaBus]) await consume(mode.model, () => undefined);
  const samples = { direct: [], bus: [] };
  for (let run = 0; run < mode.runs && performance.now() < deadline; run++) {
    for (const [path, consume] of [
      ['direct', direct],
      ['bus', viaBus],
    ]) {
      const times = [];
      let deltas = 0;
      const startedAt = performance.now();
      // A delta may carry several tokens (the provider coalesces a burst): one arrival time each.
      await consume(mode.model, (text) => {
        const at = performance.now();
        deltas++;
        for (let n = text === undefined ? 1 : tokensIn(text); n > 0; n--) times.push(at);
      });
      if (times.length !== mode.tokens) throw new Error(`${path} got ${times.length} of ${mode.tokens} tokens`);
      samples[path].push({ ...timing(startedAt, times), deltas });
    }
  }
  const p50 = (list, key) =>
    percentile(
      list.map((s) => s[key]),
      50,
    );
  const summary = (list) => ({
    runs: list.length,
    endToEndTokensPerSecond: round(p50(list, 'endToEndTokensPerSecond'), 0),
    outputTokensPerSecond: round(p50(list, 'outputTokensPerSecond'), 0),
    ttftP50: round(p50(list, 'ttftMs'), 3),
    ttftP90: round(
      percentile(
        list.map((s) => s.ttftMs),
        90,
      ),
      3,
    ),
    deltasP50: p50(list, 'deltas'),
  });
  return { direct: summary(samples.direct), bus: summary(samples.bus) };
}

/**
 * `provider::<id>::abort` after the first token of a 4 s stream: time until the caller holds the
 * terminal `done {stop_reason: aborted}` (the provider emits it once its HTTP stream is cut).
 */
async function measureAbort(bus, providerId) {
  const latencies = [];
  for (let i = 0; i < ABORT_MODE.runs; i++) {
    const requestId = `bench-abort-${i}-${Math.random().toString(36).slice(2)}`;
    let firstToken;
    const tokenSeen = new Promise((resolve) => (firstToken = resolve));
    const run = openProviderStream(
      bus,
      providerId,
      { request_id: requestId, model: ABORT_MODE.model, messages: [{ role: 'user', content: 'Count slowly.' }] },
      { timeoutMs: 30_000, onEvent: (e) => e.type === 'text_delta' && firstToken() },
    );
    await tokenSeen;
    const asked = performance.now();
    await bus.call(contracts.provider.abort(providerId), { request_id: requestId });
    const { terminal } = await run.finished;
    if (terminal?.type !== 'done' || terminal.message.stop_reason !== 'aborted')
      throw new Error(`abort did not end the stream: ${JSON.stringify(terminal)}`);
    latencies.push(performance.now() - asked);
  }
  return { runs: latencies.length, p50: round(percentile(latencies, 50), 2), p90: round(percentile(latencies, 90), 2) };
}

/** What the orchestrator does: a channel, `provider::<id>::stream` with its writer, text deltas from the reader. */
async function busStream(bus, providerId, model, onToken) {
  const run = openProviderStream(
    bus,
    providerId,
    {
      request_id: `bench-${Math.random().toString(36).slice(2)}`,
      model,
      messages: [{ role: 'user', content: 'Count.' }],
    },
    { timeoutMs: 30_000, onEvent: (e) => e.type === 'text_delta' && onToken(e.delta) },
  );
  const { terminal, error } = await run.finished;
  if (error || terminal?.type !== 'done')
    throw new Error(`bus stream failed: ${error?.message ?? JSON.stringify(terminal)}`);
}

async function until(check, timeoutMs = 15_000) {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
