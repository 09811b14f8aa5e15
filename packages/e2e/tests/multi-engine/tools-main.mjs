// The test tool as a process (one per engine). Every run is appended to the JSONL file named by
// TOOLS_RUNS_FILE (shared by every copy) before the tool answers, so a run is never missing from it.
import { appendFileSync } from 'node:fs';
import { runWorkerMain } from '@iii-harness/runtime';
import { contract } from '@iii-harness/types';
import { z } from 'zod';

const echo = contract({
  id: 'tools::echo',
  description: 'test tool: records its run and echoes its input',
  input: z.record(z.string(), z.unknown()),
  output: z.unknown(),
});

await runWorkerMain({
  name: 'tools',
  description: 'multi-engine test tools',
  config: z.object({}).passthrough(),
  register(worker) {
    worker.function(echo, async (input) => {
      const line = { marker: input.marker, engine: process.env.ENGINE_NAME, at: Date.now() };
      appendFileSync(process.env.TOOLS_RUNS_FILE, `${JSON.stringify(line)}\n`);
      return { echoed: input };
    });
  },
});
