import { startEngine } from '@iii-harness/dev-engine';

export interface DevEngine {
  /** Worker WebSocket URL, e.g. ws://127.0.0.1:40123 */
  url: string;
  /** HTTP trigger base URL, e.g. http://127.0.0.1:40124 */
  httpUrl: string;
  close(): Promise<void>;
}

/** A throwaway dev engine on ephemeral ports, in memory unless `dataDir` is given. */
export async function startDevEngine(options: { dataDir?: string } = {}): Promise<DevEngine> {
  const engine = await startEngine({
    port: 0,
    httpPort: 0,
    host: '127.0.0.1',
    ...(options.dataDir ? { dataDir: options.dataDir } : { memory: true }),
    logLevel: 'silent',
  });
  if (!engine.httpUrl) throw new Error('the dev engine started without its HTTP listener');
  return { url: engine.url, httpUrl: engine.httpUrl, close: () => engine.close() };
}
