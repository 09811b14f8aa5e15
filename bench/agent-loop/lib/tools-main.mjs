// The instant tool as a process (production topology); `bench::runs` answers how often it ran.
import { runWorkerMain } from '@iii-harness/runtime';
import { z } from 'zod';
import { benchRuns, benchTool } from './contracts.mjs';
import { makeTool } from './script.mjs';

const runs = { count: 0 };
const run = makeTool(runs);
await runWorkerMain({
  name: 'bench-tools',
  description: 'agent-loop bench: one instant tool',
  config: z.object({}).passthrough(),
  register(worker) {
    worker.function(benchTool, run);
    worker.function(benchRuns, () => ({ count: runs.count }));
  },
});
