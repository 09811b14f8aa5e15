import { HarnessClient } from '../client.js';
import { captureSdkConsole, engineUrl } from '../connect.js';
import type { GlobalOptions } from '../program.js';

/** Connect, run, disconnect: what every one-shot command does. */
export async function withClient<T>(globals: GlobalOptions, work: (client: HarnessClient) => Promise<T>): Promise<T> {
  captureSdkConsole(process.env.IIH_CLI_DEBUG_LOG);
  const client = await HarnessClient.connect(engineUrl(globals.url));
  try {
    return await work(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}
