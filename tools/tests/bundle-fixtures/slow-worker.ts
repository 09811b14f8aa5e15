// A worker for the SIGTERM test (bundle-shutdown.test.mjs): calls that finish just after the drain
// starts, calls that never finish, and a queue job whose first delivery never finishes.
import { runWorkerMain } from '@iii-harness/runtime';
import { contract } from '@iii-harness/types';
import { z } from 'zod';

const hold = contract({
  id: 'slow::hold',
  description: 'Answer {tag} shortly after the drain starts, or never',
  input: z.object({ tag: z.string(), until: z.enum(['drain', 'never']) }),
  output: z.object({ tag: z.string() }),
});

const job = contract({
  id: 'slow::job',
  description: 'Count the delivery; the first one never finishes, a later one records itself as done',
  input: z.object({ key: z.string() }),
  output: z.object({ attempt: z.number() }),
});

const forever = () => new Promise<never>(() => {});

await runWorkerMain({
  name: 'slow',
  description: 'Slow calls for the graceful-shutdown test',
  config: z.object({}),
  register(worker) {
    worker.function(hold, async ({ tag, until }) => {
      if (until === 'never') return forever();
      await new Promise<void>((resolve) =>
        worker.shutdownSignal.addEventListener('abort', () => setTimeout(resolve, 50), { once: true }),
      );
      return { tag };
    });
    worker.function(job, async ({ key }) => {
      const { new_value } = await worker.bus.state.update<{ attempts: number }>('slow-jobs', key, [
        { type: 'increment', path: 'attempts', by: 1 },
      ]);
      const attempt = new_value.attempts;
      if (attempt === 1) return forever();
      await worker.bus.state.set('slow-jobs', `${key}:done`, { attempt });
      return { attempt };
    });
  },
});
