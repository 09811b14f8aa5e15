import { Bus, createLogger, RECONNECTION, startWorker, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { type IIIClient, registerWorker } from 'iii-sdk';
import { type CapturedLogs, captureLogs } from './logs.js';

export interface TestWorker<C> extends Worker<C> {
  logs: CapturedLogs;
}

/** Start a worker spec against `url` with OTel export off and its logs captured (debug level). */
export async function startTestWorker<C>(
  spec: WorkerSpec<C>,
  options: { url: string; config?: unknown },
): Promise<TestWorker<C>> {
  const logs = captureLogs();
  const logger = createLogger({ worker: spec.name, level: 'debug', destination: logs.stream });
  const worker = await startWorker(spec, {
    url: options.url,
    config: options.config,
    logger,
    otel: false,
    invocationTimeoutMs: 10_000,
  });
  return Object.assign(worker, { logs });
}

export interface TestClient {
  client: IIIClient;
  bus: Bus;
  close(): Promise<void>;
}

/** A bare iii-sdk client (as a console or CLI would be) with the runtime's typed Bus over it. */
export async function connectClient(url: string, name = 'test-client'): Promise<TestClient> {
  const client = registerWorker(url, {
    workerName: name,
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 10_000,
    reconnectionConfig: RECONNECTION, // as workers do: back within ~2 s of an engine restart
  });
  const bus = new Bus(client);
  try {
    await bus.call(contracts.engine.functionsList, { prefix: '__ready__' });
  } catch (error) {
    await client.shutdown(); // otherwise the SDK keeps reconnecting forever
    throw error;
  }
  return { client, bus, close: () => client.shutdown() };
}
