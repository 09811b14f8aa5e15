#!/usr/bin/env node
// What checking replies against their contracts costs a turn: the agent-loop bench's one-process
// stack of a checkout (its own bench/agent-loop/lib/ours.mjs, its own built packages), with the
// runtime's `Bus.checkReply` (the caller-side `contract.output.safeParse` that issue 12 added to
// every `bus.call`) counted and timed per turn. Builds without it (before issue 12) have nothing
// to count.
//   nice -n 10 node bench/contract-cost.mjs --root=<checkout> [--turns=40]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const root = resolve(option('root') ?? '.');
const TURNS = Number(option('turns') ?? 40);
const TOOL_COUNTS = [1, 3, 10];

const { Bus } = await import(pathToFileURL(join(root, 'packages/runtime/dist/index.js')).href);
const { providerStreamEvent } = await import(pathToFileURL(join(root, 'packages/types/dist/index.js')).href);
const { startOurs } = await import(pathToFileURL(join(root, 'bench/agent-loop/lib/ours.mjs')).href);
const checkReply = Bus.prototype.checkReply;
if (typeof checkReply !== 'function') {
  console.log(`${root}: this build's Bus has no checkReply (no caller-side reply validation to measure)`);
  priceEventParse();
  process.exit(0);
}

// Every worker of the stack runs in this process, so one patch of the prototype sees every call.
let tally = { count: 0, ms: 0, byId: new Map() };
Bus.prototype.checkReply = function timedCheckReply(contract, result) {
  const began = performance.now();
  try {
    return checkReply.call(this, contract, result);
  } finally {
    const ms = performance.now() - began;
    tally.count += 1;
    tally.ms += ms;
    const entry = tally.byId.get(contract.id) ?? { count: 0, ms: 0 };
    entry.count += 1;
    entry.ms += ms;
    tally.byId.set(contract.id, entry);
  }
};

const quiet = console.debug;
console.debug = (...a) => (typeof a[0] === 'string' && /^\[(OTel|iii)\]/.test(a[0]) ? undefined : quiet(...a));
const dir = mkdtempSync(join(tmpdir(), 'iih-contract-cost-'));
const ours = await startOurs({ dataDir: join(dir, 'engine') });
try {
  for (let i = 0; i < 30; i++) await ours.turn(TOOL_COUNTS[i % TOOL_COUNTS.length]); // warm-up
  console.log(`${root}: ${TURNS} sequential turns per tool count, after 30 warm-up turns`);
  console.log(
    '| tool calls | reply checks per turn | µs in reply checks per turn (mean) | turn p50 | share of the turn p50 |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  const heaviest = new Map();
  for (const n of TOOL_COUNTS) {
    tally = { count: 0, ms: 0, byId: new Map() };
    const turns = [];
    for (let i = 0; i < TURNS; i++) turns.push((await ours.turn(n)).ms);
    await new Promise((r) => setTimeout(r, 50)); // the last turn's late event writes
    const p50 = turns.sort((a, b) => a - b)[Math.floor(turns.length / 2)];
    const usPerTurn = (tally.ms * 1000) / TURNS;
    console.log(
      `| ${n} | ${(tally.count / TURNS).toFixed(1)} | ${usPerTurn.toFixed(0)} | ${p50.toFixed(1)} ms | ${((usPerTurn / 1000 / p50) * 100).toFixed(1)} % |`,
    );
    if (n === 3) for (const [id, e] of tally.byId) heaviest.set(id, e);
  }
  const top = [...heaviest].sort((a, b) => b[1].ms - a[1].ms).slice(0, 6);
  console.log('\n3-call turns, the contracts whose reply checks cost the most (per turn):');
  for (const [id, e] of top)
    console.log(`- ${id}: ${(e.count / TURNS).toFixed(1)} checks, ${((e.ms * 1000) / TURNS).toFixed(0)} µs`);
  priceEventParse();
} finally {
  await ours.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

/**
 * The stream reader's other check: runtime's provider-stream reader (one reader since issue 12,
 * also used by bench/provider-stream) validates every event a provider sends against
 * `providerStreamEvent`. One paced text delta, parsed 20,000 times.
 */
function priceEventParse() {
  const event = { type: 'text_delta', content_index: 0, delta: 'tok ' };
  for (let i = 0; i < 2_000; i++) providerStreamEvent.safeParse(event);
  const runs = 20_000;
  const began = performance.now();
  for (let i = 0; i < runs; i++) providerStreamEvent.safeParse(event);
  const us = ((performance.now() - began) * 1000) / runs;
  console.log(`\nproviderStreamEvent.safeParse of one text_delta: ${us.toFixed(2)} µs (mean of ${runs})`);
}
