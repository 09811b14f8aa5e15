#!/usr/bin/env node
// Same-run comparison of two (or more) builds of this repository: each checkout's own
// bench/agent-loop (our system in one process) and bench/provider-stream, interleaved round by
// round so that the machine's noise hits every build alike. Each checkout must be built
// (`npm run build`) and have bench/agent-loop's own dependencies installed.
//   node bench/compare-builds.mjs --build=before=/path/a --build=after=/path/b
//   --rounds=N        rounds per bench (default 5); the order of the builds flips every round
//   --benches=a,b     agent-loop and/or provider-stream (default both)
//   --quick           agent-loop's --quick plan (fewer turns per run)
//   --out=file.json   also write every run's raw numbers
//   --from=file.json  only render the table of an earlier --out file
// Every bench run is started under `nice -n 10`. Ratios are a build ÷ the first build. A
// difference is called beyond the spread only when the builds' per-round values do not overlap.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const RUN_TIMEOUT_MS = 10 * 60_000;
const TOOL_COUNTS = ['1', '3', '10'];
const MODES = ['paced', 'burst', 'ttft'];

const from = option('from');
const record = from ? JSON.parse(readFileSync(from, 'utf8')) : await measure();
console.log(render(record));

async function measure() {
  const builds = args
    .filter((a) => a.startsWith('--build='))
    .map((a) => {
      const [label, root] = a.slice('--build='.length).split(/=(.*)/s);
      return { label, root: resolve(root), commit: commitOf(resolve(root)) };
    });
  if (builds.length < 2) {
    console.error('usage: node bench/compare-builds.mjs --build=before=<checkout> --build=after=<checkout>');
    process.exit(2);
  }
  const rounds = Number(option('rounds') ?? 5);
  const benches = (option('benches') ?? 'agent-loop,provider-stream').split(',');
  const began = performance.now();
  const machine = {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model,
    node: process.version,
    loadBefore: loadavg(),
  };
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    // The order flips every round (A B, B A, …): neither build always runs first.
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    for (const bench of benches)
      for (const build of order) {
        const loadBefore = loadavg()[0];
        // A failed run is recorded and reported, never allowed to end the others' measurements.
        const metrics = await runBench(bench, build.root).catch((error) => ({ error: error.message }));
        runs.push({ round, bench, build: build.label, loadBefore, loadAfter: loadavg()[0], metrics });
        const seconds = ((performance.now() - began) / 1000).toFixed(0);
        console.error(
          `round ${round + 1}/${rounds} ${bench} ${build.label}: done at ${seconds} s (load ${loadBefore})`,
        );
      }
  }
  machine.loadAfter = loadavg();
  machine.elapsedS = (performance.now() - began) / 1000;
  const result = { command: `node bench/compare-builds.mjs ${args.join(' ')}`, machine, builds, rounds, runs };
  const out = option('out');
  if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function commitOf(root) {
  return execFileSync('git', ['-C', root, 'rev-parse', '--short=10', 'HEAD'], { encoding: 'utf8' }).trim();
}

/** One run of a checkout's own bench, its flags adapted to what that version of the bench accepts. */
async function runBench(bench, root) {
  const script = join(root, 'bench', bench, 'run.mjs');
  if (!existsSync(script)) throw new Error(`${script} does not exist`);
  const source = readFileSync(script, 'utf8');
  const flags = ['--no-write', '--json'];
  if (bench === 'agent-loop') {
    // Older versions have no --systems / --parked; their --only=ours is the same one-process system.
    flags.push(...(source.includes("'--systems='") ? ['--systems=ours', '--parked=0'] : ['--only=ours']));
    flags.push('--no-throughput');
    if (args.includes('--quick')) flags.push('--quick');
  }
  const stdout = await run(['nice', '-n', '10', process.execPath, script, ...flags], dirname(script));
  const raw = firstJson(stdout);
  return bench === 'agent-loop' ? agentLoopMetrics(raw) : providerMetrics(raw);
}

function run([command, ...rest], cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, rest, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A bench that hangs (e.g. waiting for an event an older build never sends) must not stall the run.
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(stdout);
      else reject(new Error(`${rest.join(' ')} exited ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
}

/** The benches print progress, then their results as indented JSON, then markdown. */
function firstJson(stdout) {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l === '{' || l === '[');
  const end = lines.findIndex((l, i) => i > start && (l === '}' || l === ']'));
  if (start < 0 || end < 0) throw new Error(`no JSON in the bench's output:\n${stdout.slice(-2000)}`);
  return JSON.parse(lines.slice(start, end + 1).join('\n'));
}

/** Lower is better for every agent-loop metric. */
function agentLoopMetrics(raw) {
  const ours = raw.latency['iii-harness'];
  const metrics = {};
  for (const n of TOOL_COUNTS) {
    metrics[`turn p50, ${n} call(s) [ms]`] = ours[n].p50;
    metrics[`turn p95, ${n} call(s) [ms]`] = ours[n].p95;
  }
  metrics['turn p50, 3 calls, waiting in-process [ms]'] = raw.waiting.inprocessP50;
  metrics['stream write → trigger p50 [ms]'] = raw.notify.notifyP50;
  for (const n of TOOL_COUNTS) {
    const ops = raw.trace?.[n]?.total;
    metrics[`bus operations per turn, ${n} call(s)`] = ops;
    // The turn's p50 spread over its round trips: where a per-call cost (a reply parse) would show.
    metrics[`turn p50 ÷ bus operations, ${n} call(s) [µs]`] = ops ? (ours[n].p50 * 1000) / ops : undefined;
  }
  const check = raw.checks['iii-harness'];
  metrics['every tool call ran exactly once'] = check.exactlyOnce ? 1 : 0;
  return metrics;
}

/** Throughput metrics are higher-is-better; TTFT and abort lower-is-better (named in the key). */
function providerMetrics(raw) {
  const metrics = {};
  for (const { id, modes, abort } of raw) {
    for (const mode of MODES) {
      const { direct, bus } = modes[mode];
      if (mode !== 'ttft') {
        metrics[`${id} ${mode}: output tok/s via bus ↑`] = bus.outputTokensPerSecond;
        metrics[`${id} ${mode}: output tok/s direct (control) ↑`] = direct.outputTokensPerSecond;
      }
      metrics[`${id} ${mode}: TTFT p50 via bus [ms]`] = bus.ttftP50;
      metrics[`${id} ${mode}: added TTFT p50 (bus − direct) [ms]`] = bus.ttftP50 - direct.ttftP50;
    }
    metrics[`${id}: abort → terminal p50 [ms]`] = abort.p50;
  }
  return metrics;
}

function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmt(value) {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A table per bench: the median over rounds of each run's figure, with the range over rounds. */
function render({ command, machine, builds, rounds, runs }) {
  const [base, ...others] = builds.map((b) => b.label);
  const lines = [
    `\`${command}\``,
    '',
    ...builds.map((b) => `- ${b.label}: \`${b.commit}\` (${b.root})`),
    `- ${rounds} rounds, ${fmt(machine.elapsedS)} s, ${machine.nproc} CPU (${machine.cpu}), Node ${machine.node}; ` +
      `load average ${machine.loadBefore.map(fmt).join(' / ')} before, ${machine.loadAfter.map(fmt).join(' / ')} after ` +
      `(1-min load at the start of the runs: ${fmt(Math.min(...runs.map((r) => r.loadBefore)))}–${fmt(Math.max(...runs.map((r) => r.loadBefore)))})`,
  ];
  for (const bench of [...new Set(runs.map((r) => r.bench))]) {
    const failed = runs.filter((r) => r.bench === bench && r.metrics.error);
    const ofBench = runs.filter((r) => r.bench === bench && !r.metrics.error);
    const values = (label, key) => ofBench.filter((r) => r.build === label).map((r) => r.metrics[key]);
    const cell = (list) => `${fmt(median(list))} (${fmt(Math.min(...list))}–${fmt(Math.max(...list))})`;
    const header = [
      'metric',
      ...builds.map((b) => `${b.label} median (range over rounds)`),
      ...others.map((o) => `${o} ÷ ${base}`),
      'beyond the spread?',
    ];
    lines.push(
      '',
      `**${bench}**`,
      '',
      `| ${header.join(' | ')} |`,
      `|${header.map((_, i) => (i ? ' ---: ' : ' --- ')).join('|')}|`,
    );
    for (const key of Object.keys(ofBench[0]?.metrics ?? {})) {
      const baseValues = values(base, key);
      const verdicts = others.map((o) => (others.length > 1 ? `${o}: ` : '') + overlap(baseValues, values(o, key)));
      lines.push(
        `| ${key} | ${builds.map((b) => cell(values(b.label, key))).join(' | ')} | ${others
          .map((o) => `${fmt(median(values(o, key)) / median(baseValues))}×`)
          .join(' | ')} | ${verdicts.join('; ')} |`,
      );
    }
    if (failed.length) lines.push('');
    for (const r of failed) lines.push(`- ${r.build}, round ${r.round + 1}: failed: ${r.metrics.error.split('\n')[0]}`);
  }
  return lines.join('\n');
}

/** 'no' when the ranges overlap; otherwise which way the later build moved. */
function overlap(a, b) {
  const finite = (list) => list.filter(Number.isFinite);
  const [x, y] = [finite(a), finite(b)];
  if (!x.length || !y.length) return 'n/a';
  if (Math.max(...y) < Math.min(...x)) return 'yes, lower';
  if (Math.min(...y) > Math.max(...x)) return 'yes, higher';
  return 'no';
}
