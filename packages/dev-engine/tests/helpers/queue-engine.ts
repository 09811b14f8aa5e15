/**
 * An in-process engine plus iii-sdk workers for the queue integration tests; `close()` shuts the
 * workers down before the engine so Jest exits cleanly.
 */
import { type IIIClient, registerWorker } from 'iii-sdk';
import { type EngineOptions, type RunningEngine, startEngine } from '../../src/index.js';

export interface QueueTestEngine {
  engine: RunningEngine;
  url: string;
  /** A new SDK worker connected to the engine (closed by `close()`). */
  worker(): IIIClient;
  close(): Promise<void>;
}

export async function startQueueTestEngine(options: EngineOptions = {}): Promise<QueueTestEngine> {
  const engine = await startEngine({ port: 0, httpPort: 0, memory: true, logLevel: 'silent', ...options });
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
