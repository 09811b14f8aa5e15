import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  connectClient,
  createScriptedProvider,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  streamFromProvider,
  type TestClient,
  type TestWorker,
} from '../src/index.js';

/**
 * A TCP proxy in front of the engine that can play "the engine died while a channel was being
 * upgraded": the next WebSocket upgrade to `/ws/channels/…` is cut after its request arrived, and
 * every connection through the proxy drops with it. The engine stays up behind the proxy, so the
 * worker finds it again when it reconnects.
 */
class EngineProxy {
  killOnChannelUpgrade = false;
  killed = 0;
  private readonly open = new Set<Socket>();
  private server?: Server;
  url = '';

  async start(engineUrl: string): Promise<this> {
    const target = new URL(engineUrl);
    this.server = createServer((client) => {
      this.track(client);
      client.once('data', (first) => {
        if (this.killOnChannelUpgrade && first.toString('latin1').startsWith('GET /ws/channels/')) {
          this.killOnChannelUpgrade = false;
          this.killed++;
          for (const socket of this.open) socket.destroy();
          return;
        }
        const upstream = connect(Number(target.port), target.hostname);
        this.track(upstream);
        upstream.write(first);
        client.pipe(upstream).pipe(client);
        const dropBoth = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('close', dropBoth);
        upstream.on('close', dropBoth);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  private track(socket: Socket): void {
    this.open.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.open.delete(socket));
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let engine: DevEngine;
let proxy: EngineProxy;
let client: TestClient;
let worker: TestWorker<unknown>;

beforeAll(async () => {
  engine = await startDevEngine();
  proxy = await new EngineProxy().start(engine.url);
  client = await connectClient(engine.url);
  const provider = createScriptedProvider({ fallback: { steps: [{ text: 'still serving' }] } });
  worker = (await startTestWorker(provider.spec, { url: proxy.url })) as TestWorker<unknown>;
});

afterAll(async () => {
  await worker?.shutdown();
  await client?.close();
  await proxy?.close();
  await engine?.close();
});

let n = 0;
const request = () => ({
  request_id: `upgrade-${++n}`,
  model: 'scripted-model',
  messages: [{ role: 'user', content: 'hello' }],
});

// Without an `error` listener on the writer, the cut upgrade's "socket hang up" is an uncaught
// exception: a provider process exits, and Jest fails this suite with it.
describe('provider-kit: the engine dying during a channel upgrade', () => {
  it('never kills the provider process: the channel failure is logged, the worker reconnects and serves again', async () => {
    proxy.killOnChannelUpgrade = true;
    // The provider's writer connects at once; the engine "dies" mid-upgrade. This call cannot
    // succeed (its worker vanished); what matters is what happens to the worker.
    await streamFromProvider(client.bus, 'scripted', request(), { timeoutMs: 2_000 });
    expect(proxy.killed).toBe(1);

    const again = await eventually(
      async () => {
        const run = await streamFromProvider(client.bus, 'scripted', request(), { timeoutMs: 2_000 });
        expect(run.terminal?.type).toBe('done');
        return run;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect((again.terminal!.message as { content: unknown[] }).content).toEqual([
      { type: 'text', text: 'still serving' },
    ]);
    expect(worker.logs.text()).toContain("the caller's channel failed");
  }, 60_000);
});
