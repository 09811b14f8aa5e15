/**
 * `iii-cron`: the `cron` trigger type. Each binding runs its own loop: sleep until the next
 * fire time, check `condition_function_id`, await the handler, repeat. Because the fire is
 * awaited inside the loop, runs of one job never overlap (a slow handler delays the next tick,
 * and missed ticks are skipped). Handler input: `{trigger:"cron", job_id, scheduled_time,
 * actual_time}` (RFC 3339) plus the trigger's metadata. Before a run the job takes its lock
 * (`CronLock`: always granted in-process, shared through Redis with the `redis` adapter) and
 * releases it after; a tick whose lock is refused is skipped.
 */
import type { EngineApi, TriggerBinding } from '../engine-api.js';
import { conditionPasses, configString } from './conditions.js';
import { type CronSchedule, nextFireTime, parseCronExpression } from './cron-expression.js';

/** The cron adapter's lock: who runs a job's tick when several engines hold the job. */
export interface CronLock {
  acquire(jobId: string, scheduledMs: number): Promise<boolean>;
  release(jobId: string): Promise<void>;
}

/** The `kv` adapter: one process, so every tick is this engine's. */
export const localCronLock: CronLock = {
  acquire: async () => true,
  release: async () => undefined,
};

interface CronJob {
  binding: TriggerBinding;
  schedule: CronSchedule;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

/** chrono's `to_rfc3339()`: `+00:00` offset, fractional seconds only when non-zero. */
export function rfc3339(date: Date): string {
  const iso = date.toISOString(); // 2024-01-01T00:00:00.000Z
  const ms = date.getUTCMilliseconds();
  return `${iso.slice(0, 19)}${ms ? iso.slice(19, 23) : ''}+00:00`;
}

export function installCron(api: EngineApi, lock: CronLock = localCronLock): void {
  const jobs = new Map<string, CronJob>();

  const schedule = (job: CronJob) => {
    if (job.stopped) return;
    const next = nextFireTime(job.schedule, new Date());
    if (!next) return;
    // setTimeout caps at ~24.8 days; re-plan in steps for far-away fire times.
    const delay = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    job.timer = setTimeout(
      () => (Date.now() + 5 >= next.getTime() ? void run(job, next) : schedule(job)),
      Math.max(0, delay),
    );
    job.timer.unref();
  };

  const run = async (job: CronJob, scheduled: Date) => {
    const { binding } = job;
    const event = {
      trigger: 'cron',
      job_id: binding.id,
      scheduled_time: rfc3339(scheduled),
      actual_time: rfc3339(new Date()),
    };
    if (await lock.acquire(binding.id, scheduled.getTime())) {
      try {
        if (await conditionPasses(api, configString(binding.config, 'condition_function_id'), event))
          await api.call(binding.function_id, event, { metadata: binding.metadata });
      } catch (error) {
        api.logger.error({ err: error, job_id: binding.id, function_id: binding.function_id }, 'cron job failed');
      }
      await lock.release(binding.id);
    }
    schedule(job);
  };

  const stop = (id: string) => {
    const job = jobs.get(id);
    if (!job) return;
    job.stopped = true;
    clearTimeout(job.timer);
    jobs.delete(id);
  };

  api.registerTriggerType('cron', 'Cron trigger', {
    worker: 'iii-cron',
    registerTrigger: (binding) => {
      const expression = configString(binding.config, 'expression');
      if (!expression) throw new Error('cron trigger config requires a non-empty `expression`');
      const job: CronJob = { binding, schedule: parseCronExpression(expression), stopped: false };
      stop(binding.id);
      jobs.set(binding.id, job);
      schedule(job);
    },
    unregisterTrigger: (binding) => stop(binding.id),
  });

  api.onClose(() => {
    for (const id of [...jobs.keys()]) stop(id);
  });
}
