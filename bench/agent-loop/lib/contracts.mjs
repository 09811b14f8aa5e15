// The bench's own bus functions, as contracts like every other function on the bus: the tool
// worker serves them, the driver calls them.
import { contract, jsonObject } from '@iii-harness/types';
import { z } from 'zod';
import { TOOL_ID } from './script.mjs';

export const benchTool = contract({
  id: TOOL_ID,
  description: 'instant bench tool',
  input: jsonObject,
  output: jsonObject,
});

export const benchRuns = contract({
  id: 'bench::runs',
  description: 'how often the bench tool ran',
  input: z.object({}).passthrough(),
  output: z.object({ count: z.number() }),
});
