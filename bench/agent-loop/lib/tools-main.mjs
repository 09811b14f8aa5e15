// The instant tool as a process (production topology); `bench::runs` answers how often it ran.
import { defineFunction, runWorkerMain } from '@iii-harness/runtime';
import { jsonObject } from '@iii-harness/types';
import { z } from 'zod';
import { makeTool, TOOL_ID } from './script.mjs';

const runs = { count: 0 };
const run = makeTool(runs);
await runWorkerMain({
  name: 'bench-tools',
  description: 'agent-loop bench: one instant tool',
  config: z.object({}).passthrough(),
  register(worker) {
    worker.function(
      defineFunction({
        id: TOOL_ID,
        description: 'instant bench tool',
        input: jsonObject,
        output: jsonObject,
        handler: run,
      }),
    );
    worker.function(
      defineFunction({
        id: 'bench::runs',
        description: 'how often the bench tool ran',
        input: z.object({}).passthrough(),
        output: z.object({ count: z.number() }),
        handler: () => ({ count: runs.count }),
      }),
    );
  },
});
