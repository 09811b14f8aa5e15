#!/usr/bin/env node
// Where a turn's CPU goes: the agent-loop bench's one-process stack of a checkout (its own
// bench/agent-loop/lib/ours.mjs and built packages), warmed up, then sequential turns measured by
// process CPU time per turn (user + system, every worker and the engine share this process) and,
// with --profile, a V8 CPU profile of the measured turns only (summarise it with
// agent-loop/profile-summary.mjs).
//   nice -n 10 node bench/turn-profile.mjs --root=<checkout> [--turns=60] [--calls=3] [--profile=out.cpuprofile]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const root = resolve(option('root') ?? '.');
const TURNS = Number(option('turns') ?? 60);
const CALLS = Number(option('calls') ?? 3);
const profileTo = option('profile');

const quiet = console.debug;
console.debug = (...a) => (typeof a[0] === 'string' && /^\[(OTel|iii)\]/.test(a[0]) ? undefined : quiet(...a));
const { startOurs } = await import(pathToFileURL(join(root, 'bench/agent-loop/lib/ours.mjs')).href);
const dir = mkdtempSync(join(tmpdir(), 'iih-turn-profile-'));
const ours = await startOurs({ dataDir: join(dir, 'engine') });
try {
  for (let i = 0; i < 40; i++) await ours.turn([1, 3, 10][i % 3]); // warm-up
  const session = new Session();
  if (profileTo) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const walls = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < TURNS; i++) walls.push((await ours.turn(CALLS)).ms);
  await new Promise((r) => setTimeout(r, 50)); // the last turn's late event writes
  const cpu = process.cpuUsage(cpu0);
  if (profileTo) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileTo, JSON.stringify(profile));
  }
  walls.sort((a, b) => a - b);
  const cpuMs = (cpu.user + cpu.system) / 1000 / TURNS;
  console.log(
    JSON.stringify({
      root,
      calls: CALLS,
      turns: TURNS,
      cpuMsPerTurn: +cpuMs.toFixed(2),
      wallP50: +walls[Math.floor(walls.length / 2)].toFixed(2),
    }),
  );
} finally {
  await ours.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
