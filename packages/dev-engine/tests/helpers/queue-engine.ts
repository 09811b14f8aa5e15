/**
 * An in-process engine plus iii-sdk workers for the queue integration tests; `close()` shuts the
 * workers down before the engine so Jest exits cleanly.
 */
import { type IIIClient, registerWorker } from 'iii-sdk';
import { defaultConfig, type EngineOptions, type RunningEngine, startEngine } from '../../src/index.js';
import { type LocalService, startRabbitMq } from '../../src/services.js';

/**
 * With DEV_ENGINE_TEST_ADAPTER=rabbitmq the engines of a test file keep their jobs in one
 * RabbitMQ of the file's own (so a restarted engine finds them there, as it finds its SQLite
 * file otherwise): the queue conformance tests then check the RabbitMQ transport.
 */
const ON_RABBITMQ = process.env.DEV_ENGINE_TEST_ADAPTER === 'rabbitmq';
/** `broker_type` in the queue listings of the transport under test. */
export const BROKER_TYPE = ON_RABBITMQ ? 'rabbitmq' : 'builtin';
let broker: Promise<LocalService> | undefined;
if (ON_RABBITMQ) afterAll(async () => (await broker)?.stop());

async function queueOptions(options: EngineOptions): Promise<EngineOptions> {
  if (!ON_RABBITMQ || options.config) return options;
  broker ??= startRabbitMq();
  const config = defaultConfig();
  config.queue = { adapter: { name: 'rabbitmq', config: { amqp_url: (await broker).url } } };
  return { ...options, config };
}

export interface QueueTestEngine {
  engine: RunningEngine;
  url: string;
  /** A new SDK worker connected to the engine (closed by `close()`). */
  worker(): IIIClient;
  close(): Promise<void>;
}

export async function startQueueTestEngine(options: EngineOptions = {}): Promise<QueueTestEngine> {
  const engine = await startEngine(
    await queueOptions({ port: 0, httpPort: 0, memory: true, logLevel: 'silent', ...options }),
  );
  const workers: IIIClient[] = [];
  return {
    engine,
    url: engine.url,
    worker() {
      const worker = registerWorker(engine.url, { otel: { enabled: false }, enableMetricsReporting: false });
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.all(workers.map((w) => w.shutdown()));
      await engine.close();
    },
  };
}
