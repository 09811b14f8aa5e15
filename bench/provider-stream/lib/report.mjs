// Writes the `## providers` section of docs/benchmarks.md (other sections belong to others).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './processes.mjs';
import { MODES } from './scenarios.mjs';

const TARGET_RATIO = 0.9;
const TARGET_ADDED_TTFT_MS = 5;

export function renderSection(results, elapsedMs) {
  const lines = [
    '## providers',
    '',
    `Streaming passthrough through the bus (dev engine + provider worker + a channel reader, each its own process) against consuming the same fake vendor stream directly with the vendor's official SDK. Loopback only; ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model ?? 'unknown'}), shared with other work; one run took ${(elapsedMs / 1000).toFixed(1)} s.`,
    '',
    'Run: `npm run build`, then `node bench/provider-stream/run.mjs` (add `--no-write` to only print). Modes: ' +
      Object.entries(MODES).map(([name, m]) => `**${name}** ${m.tokens} tokens${m.delayMs ? `, ${m.delayMs} ms apart` : ''} × ${m.runs} runs`).join('; ') +
      '. Tokens/s is tokens ÷ (request → last token), median of runs; TTFT is from the request (channel creation included on the bus path) to the first text delta.',
    '',
    `| wire format | mode | direct tok/s | via bus tok/s | ratio (target ≥ ${TARGET_RATIO * 100} %) | TTFT p50 direct | TTFT p50 via bus | added TTFT p50 (target < ${TARGET_ADDED_TTFT_MS} ms) |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    for (const [mode, m] of Object.entries(r.modes)) {
      const ratio = m.bus.tokensPerSecond / m.direct.tokensPerSecond;
      const added = m.bus.ttftP50 - m.direct.ttftP50;
      // Each target is judged where it means something: throughput on streams long enough to
      // have one, TTFT where the first token is not queued behind a synthetic 2000-token write.
      const ratioCell = MODES[mode].throughputTarget ? `${(ratio * 100).toFixed(1)} % ${ratio >= TARGET_RATIO ? '✓' : '✗'}` : 'n/a (5 tokens)';
      const addedCell = `${added.toFixed(2)} ms${MODES[mode].ttftTarget ? (added < TARGET_ADDED_TTFT_MS ? ' ✓' : ' ✗') : ''}`;
      lines.push(`| ${r.wireFormat} | ${mode} | ${fmt(m.direct.tokensPerSecond)} | ${fmt(m.bus.tokensPerSecond)} | ${ratioCell} | ${m.direct.ttftP50.toFixed(2)} ms | ${m.bus.ttftP50.toFixed(2)} ms | ${addedCell} |`);
    }
  }
  lines.push(
    '',
    `**Abort.** \`provider::<id>::abort\` after the first token of a 4 s stream, ${results[0]?.abort?.runs ?? 0} runs: time from the abort call to the caller holding the terminal \`done {stop_reason: aborted}\`, which the provider sends once its HTTP stream is cut (the tests check that the fake vendor sees the connection close). Target ≤ 100 ms.`,
    '',
    '| wire format | abort → terminal p50 | p90 |',
    '|---|---|---|',
    ...results.map((r) => `| ${r.wireFormat} | ${r.abort.p50.toFixed(2)} ms ${r.abort.p50 <= 100 ? '✓' : '✗'} | ${r.abort.p90.toFixed(2)} ms |`),
  );
  lines.push('', ...NOTES, '');
  return lines.join('\n');
}

const NOTES = [
  'Reading the table: **paced** is the realistic case (a vendor emitting tokens 1 ms apart, faster than any hosted model): passthrough keeps up with it. **burst** writes 2000 tokens at once, so it measures CPU, not streaming: the bus path parses the SSE in the provider process and then relays it through the engine to the reader, three processes on a small shared machine, against one process for the direct SDK. The OpenAI-compatible adapter coalesces deltas that arrive in the same event-loop turn (flushed within 2 ms), so a burst costs a few bus messages instead of thousands (about 15 per 2000 tokens); in-process, the adapter (SDK, mapping and sink) reads a burst as fast as the bare SDK, so what remains is the relay through two more processes on two shared cores. Its first-token time is dominated by the fake writing the whole burst, hence no TTFT target there. **ttft** (5-token answers back to back) is where the added time to first token is judged.',
  '',
  'Where the added TTFT goes (OpenAI case, instrumented run): creating the channel (one engine round trip) and the `stream` call reaching the worker, then `harness::provider::resolve` (two more hops) before the HTTP request can start — about two thirds of the added time; the relay of the first delta from the worker to the reader takes ~0.5 ms. The channel writer is connected while settings resolve (its WebSocket handshake used to add ~3 ms to the first event). Providers now reuse resolved settings for \`settings_ttl_ms\` (default 2 s), which removes the resolve hops from all but the first request of each window; a changed key or URL applies within that time. On a busy machine processes that sat idle between requests wake up slower, which shows in **paced** TTFT.',
];

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

export function writeSection(section) {
  const file = join(repoRoot, 'docs/benchmarks.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.search(/^## providers\s*$/m);
  if (start === -1) return writeFileSync(file, `${text.replace(/\n*$/, '\n\n')}${section}`);
  const rest = text.slice(start + 1);
  const next = rest.search(/^## /m);
  const end = next === -1 ? text.length : start + 1 + next;
  writeFileSync(file, `${text.slice(0, start)}${section}${next === -1 ? '' : `\n${text.slice(end)}`}`);
}
