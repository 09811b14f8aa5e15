import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type FakeVendorServer, startOpenAICompatibleServer } from '@iii-harness/testing';
import { contracts, type SpanTreeNode } from '@iii-harness/types';
import { mainOf } from './helpers/processes.js';
import { flatten, render, TraceCluster } from './helpers/trace-cluster.js';

// Issue 18, production side: with OTEL_EXPORTER_OTLP_ENDPOINT set, every worker sends the same spans
// it sends the engine to an OpenTelemetry collector (here a local OTLP/HTTP receiver); and a turn
// run with a real provider, its API key in the vault, leaves no secret in any span or log record —
// neither in the engine's store nor at the collector — even with tool payloads recorded.
jest.setTimeout(300_000);

const API_KEY = 'sk-trace-e2e-7f3a91c2d4b6e8f0a1c3';
const PASSWORD = 'hunter2-trace-e2e-5d8c';
const MODEL = 'gpt-4.1';

/** An OTLP/HTTP receiver: every JSON body POSTed to /v1/traces, as received. */
class Collector {
  readonly bodies: string[] = [];
  readonly paths: string[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
        if (req.method === 'POST' && req.url === '/v1/traces') this.bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Every span received: its trace, name and the service that sent it. */
  spans(): Array<{ traceId: string; name: string; service: string }> {
    const out: Array<{ traceId: string; name: string; service: string }> = [];
    for (const body of this.bodies) {
      const { resourceSpans = [] } = JSON.parse(body) as OtlpTraces;
      for (const resource of resourceSpans) {
        const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '';
        for (const scope of resource.scopeSpans ?? [])
          for (const span of scope.spans ?? []) out.push({ traceId: span.traceId, name: span.name, service });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}

interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value?: { stringValue?: string } }> };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; name: string }> }>;
  }>;
}

let cluster: TraceCluster;
let vendor: FakeVendorServer;
const collector = new Collector();
const savedKey = process.env.OPENAI_API_KEY;

beforeAll(async () => {
  delete process.env.OPENAI_API_KEY; // the key lives in the vault only
  vendor = await startOpenAICompatibleServer({ apiKey: API_KEY, models: [MODEL] });
  await collector.start();
  const dir = join(tmpdir(), `iih-trace-export-${process.pid}`);
  cluster = await TraceCluster.start({
    tools: {
      main: join(__dirname, 'helpers', 'tools-main.mjs'),
      ready: 'tools::echo',
      env: { TOOLS_RUNS_FILE: `${dir}-runs.jsonl` },
    },
    provider: { id: 'openai', spec: { main: mainOf('provider-openai'), ready: 'provider::openai::stream' } },
    extra: [
      { name: 'auth-credentials', main: mainOf('auth-credentials'), ready: 'auth::get_token' },
      { name: 'llm-budget', main: mainOf('llm-budget'), ready: 'budget::reserve' },
      { name: 'context-compaction', main: mainOf('context-compaction'), ready: 'compaction::plan' },
    ],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, IIH_TRACE_PAYLOADS: '1' },
    config: {
      'auth-credentials': { store_path: `${dir}-credentials.json` },
      'provider-openai': { base_url: `${vendor.url}/v1`, discover_on_start: false, api: 'chat_completions' },
    },
  });
});

afterAll(async () => {
  await cluster?.close();
  await vendor?.close();
  await collector.close();
  if (savedKey !== undefined) process.env.OPENAI_API_KEY = savedKey;
});

/** Everything the engine stores about every trace and log record, as one text. */
async function everythingStored(): Promise<string> {
  const { bus } = cluster.client;
  const { spans } = await bus.call(contracts.engine.tracesList, { include_internal: true, limit: 10_000 });
  const trees = [];
  for (const trace_id of new Set(spans.map((s) => s.trace_id)))
    trees.push(await bus.call(contracts.engine.tracesTree, { trace_id }));
  const logs = await bus.call(contracts.engine.logsList, { limit: 10_000 });
  return JSON.stringify({ spans, trees, logs });
}

it('a turn through a real provider: the same spans reach the collector, no secret in any span or log', async () => {
  const { bus } = cluster.client;
  await bus.call(contracts.auth.setToken, { provider: 'openai', token: API_KEY });
  const session_id = `trace-export-${Date.now()}`;
  vendor.enqueue(
    {
      steps: [
        {
          tool_call: {
            id: 'call_echo_1',
            name: 'agent_trigger',
            arguments: { function_id: 'tools::echo', payload: { user: 'ada', password: PASSWORD } },
          },
        },
      ],
      stop: 'tool_calls',
      usage: { input: 21, output: 9 },
    },
    { steps: [{ text: 'Echoed.' }], usage: { input: 30, output: 3 } },
  );
  await bus.call(contracts.harness.send, { session_id, text: 'echo me', provider: 'openai', model: MODEL });
  await eventually(
    async () => expect(await bus.call(contracts.turn.getState, { session_id })).toMatchObject({ state: 'stopped' }),
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  // The provider really used the key (so it was live in the processes whose spans we read).
  const calls = vendor.requestsTo('/v1/chat/completions');
  expect(calls).toHaveLength(2);
  for (const call of calls) expect(call.headers.authorization).toBe(`Bearer ${API_KEY}`);

  // The turn's trace at the engine, ended (turn_completed), with both chats and the tool call.
  let traceId = '';
  let names: string[] = [];
  let services = new Set<string>();
  let spans: SpanTreeNode[] = [];
  await eventually(
    async () => {
      const { groups } = await bus.call(contracts.engine.tracesGroupBy, { attribute: 'iii.session.id', limit: 1000 });
      const group = groups.find((g) => g.value === session_id);
      const trees = [];
      for (const trace_id of group?.trace_ids ?? [])
        trees.push({ trace_id, roots: (await bus.call(contracts.engine.tracesTree, { trace_id })).roots });
      const sends = trees.filter((t) => t.roots.some((r) => r.name === 'execute harness::send'));
      expect([sends.length, trees.map((t) => render(t.roots)).join('\n---\n')]).toEqual([1, expect.any(String)]);
      traceId = sends[0]!.trace_id;
      spans = flatten(sends[0]!.roots);
      names = spans.map((s) => s.name);
      services = new Set(spans.map((s) => s.service_name ?? ''));
      expect(spans.some((s) => s.events.some((e) => e.name === 'turn_completed'))).toBe(true);
      expect(names.filter((n) => n === `chat ${MODEL}`)).toHaveLength(2);
      expect(names).toEqual(expect.arrayContaining(['execute harness::send', 'execute_tool tools::echo']));
      // Budget and compaction around each model call are hops of the turn too (each worker exports
      // its spans in its own batches: wait for them all).
      const byId = new Map(spans.map((s) => [s.span_id, s]));
      const parentsOf = (name: string) =>
        spans.filter((s) => s.name === name).map((s) => byId.get(s.parent_span_id ?? '')?.name);
      const twice = ['turn assistant_streaming', 'turn assistant_streaming'];
      expect(parentsOf('execute budget::reserve')).toEqual(twice);
      expect(parentsOf('execute budget::commit')).toEqual(twice);
      expect(parentsOf('execute compaction::plan')).toEqual(twice);
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );

  // The collector got the same trace: the same span names, from each worker's own service.
  await eventually(
    async () => {
      const received = collector.spans().filter((s) => s.traceId === traceId);
      expect(received.map((s) => s.name).sort()).toEqual([...names].sort());
      expect(new Set(received.map((s) => s.service))).toEqual(services);
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  expect([...services]).toEqual(expect.arrayContaining(['harness', 'turn-orchestrator', 'provider-openai', 'tools']));
  expect(collector.paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);

  // The tool's payload was recorded (IIH_TRACE_PAYLOADS=1), its password redacted.
  const stored = await everythingStored();
  expect(stored).toContain('gen_ai.tool.call.arguments');
  expect(stored).toContain('ada');
  // No secret anywhere: not the API key (vault → harness → provider → vendor), not the password.
  const exported = collector.bodies.join('\n');
  for (const secret of [API_KEY, PASSWORD, API_KEY.slice(3, 20)]) {
    expect(stored.includes(secret)).toBe(false);
    expect(exported.includes(secret)).toBe(false);
  }
});
