import { runChaos } from './helpers/chaos.js';
import { Cluster } from './helpers/cluster.js';

// Issue 20: the orchestrator killed with SIGKILL at 50 random moments while several sessions run
// multi-call turns: each time it is restarted (after 0–0.5 s), and killed again 0.1–0.9 s after it
// is back. Every turn completes, no entry is stored twice, no tool runs twice. KILLS overrides the count.
jest.setTimeout(900_000);

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.close();
});

it('the orchestrator killed at 50 random moments during multi-call turns: every turn completes, nothing twice', async () => {
  cluster = await Cluster.start({ provider: 'chaos' });
  const report = await runChaos(cluster, {
    sessions: 6,
    turnsPerSession: 2,
    calls: 3,
    held: 0,
    kills: Number(process.env.KILLS ?? 50),
    victims: ['turn-orchestrator'],
    stops: 0,
    stopVictims: [],
    gapMs: [100, 900],
    restartMs: [0, 500],
    stopMs: [0, 0],
    waitReady: true,
    denyShare: 0,
    settleMs: 120_000,
  });
  if (process.env.CHAOS_REPORT) console.log(JSON.stringify({ ...report, kills: report.kills.length }, null, 2));
  expect(report.violations).toEqual([]);
  expect(report.failedTurns).toEqual([]);
  expect(report.kills).toHaveLength(Number(process.env.KILLS ?? 50));
  expect(report.turns).toBeGreaterThanOrEqual(12);
});
