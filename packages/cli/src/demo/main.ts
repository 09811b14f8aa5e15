import { runWorkerMain } from '@iii-harness/runtime';
import { demoWorker } from './worker.js';

/** `iii-harness demo-provider [--url ...]`: the demo provider as its own worker process. */
export async function runDemoProvider(argv: string[]): Promise<void> {
  await runWorkerMain(demoWorker(), argv);
  // runWorkerMain returns once connected; the process stays up until SIGINT/SIGTERM.
  await new Promise<never>(() => undefined);
}
