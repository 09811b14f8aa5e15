import { runChaos } from './helpers/chaos.js';
import { Cluster, WORKERS } from './helpers/cluster.js';

// Issue 21: a graceful stop (SIGTERM, as a deploy or an orchestrator's scale-down sends it) of any
// worker while 20 sessions run multi-call turns, some of whose calls wait for a person. Each worker
// is stopped in turn, twice, and started again: each exits 0 within its drain bound, and every turn
// completes with nothing lost or stored twice and no tool run twice (the chaos suite's invariants).
jest.setTimeout(900_000);

/** The drain (2.5 s) and the close steps (1 s each) a worker allows itself, with room for a loaded machine. */
const EXIT_WITHIN_MS = 15_000;

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.close();
});

it('SIGTERM to each worker during 20 concurrent turns: exit 0 in time, every turn completes, nothing twice', async () => {
  cluster = await Cluster.start({ provider: 'chaos' });
  const report = await runChaos(cluster, {
    sessions: 20,
    turnsPerSession: 1,
    calls: 3,
    held: 1,
    kills: WORKERS.length * 2,
    victims: [...WORKERS],
    inTurn: true,
    signal: 'SIGTERM',
    stops: 0,
    stopVictims: [],
    gapMs: [300, 1_200],
    restartMs: [0, 500],
    stopMs: [0, 0],
    waitReady: true,
    denyShare: 0,
    settleMs: 120_000,
  });
  if (process.env.CHAOS_REPORT) console.log(JSON.stringify({ ...report, kills: report.kills.length }, null, 2));
  const slowOrFailed = report.exits.filter((e) => e.code !== 0 || e.timedOut || e.ms > EXIT_WITHIN_MS);
  expect(slowOrFailed).toEqual([]);
  expect(new Set(report.exits.map((e) => e.victim))).toEqual(new Set(WORKERS));
  expect(report.violations).toEqual([]);
  expect(report.failedTurns).toEqual([]);
  expect(report.turns).toBeGreaterThanOrEqual(20);
});
