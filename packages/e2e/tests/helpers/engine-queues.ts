import { contract } from '@iii-harness/types';
import { z } from 'zod';

/**
 * Engine queue builtins only these tests read (no worker calls them, so they are not in the
 * catalogue's `contracts.engine`). Outputs as loose as the engine's own description of them.
 */
export const engineQueues = {
  dlqMessages: contract({
    id: 'engine::queue::dlq_messages',
    description: 'The dead-lettered messages of a queue, oldest first',
    input: z.object({ queue: z.string().min(1) }),
    output: z.array(z.looseObject({ id: z.string(), function_id: z.string(), payload: z.unknown() })),
  }),
  listTopics: contract({
    id: 'engine::queue::list_topics',
    description: 'The queues and durable topics the engine knows',
    input: z.object({}),
    output: z.array(z.looseObject({ name: z.string() })),
  }),
};
