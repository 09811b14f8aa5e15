// The test tools as their own process (so it can be killed too). Every run is appended to the
// JSONL file named by TOOLS_RUNS_FILE before the tool answers, so a run is never lost from the log.
import { appendFileSync } from 'node:fs';
import { runWorkerMain } from '@iii-harness/runtime';
import { contract } from '@iii-harness/types';
import { z } from 'zod';

const file = process.env.TOOLS_RUNS_FILE;
/** A test tool: its contract (as `toolContract` in stack.ts) and the handler that logs each run. */
const tool = (name, handler) => [
  contract({
    id: `tools::${name}`,
    description: `test tool ${name}`,
    input: z.record(z.string(), z.unknown()),
    output: z.unknown(),
  }),
  async (input) => {
    appendFileSync(file, `${JSON.stringify({ function_id: `tools::${name}`, input, at: Date.now() })}\n`);
    return handler(input);
  },
];

await runWorkerMain({
  name: 'tools',
  description: 'test tools (a process)',
  config: z.object({}).passthrough(),
  register(worker) {
    worker.function(...tool('echo', (input) => ({ echoed: input })));
    worker.function(...tool('held', (input) => ({ held_ran: input })));
    worker.function(
      ...tool('slow', async (input) => {
        await new Promise((resolve) => setTimeout(resolve, Number(input.ms ?? 1_000)));
        return { slept: input.ms };
      }),
    );
  },
});
