/**
 * The `redis` adapter of `iii-cron`: a lock per job across every engine on the Redis, in the
 * real engine's key (`cron_lock:<job id>`, `SET NX PX 30000` with this engine's instance id,
 * released by its owner after the run). The job id is the trigger id, so engines share a job only
 * when they hold the same trigger (an SDK worker gives each of its triggers a fresh id, so two
 * copies of a worker have two jobs: deduplicating those is the worker's business).
 *
 * One addition: the lock also records the scheduled time it was taken for
 * (`cron_last:<job id>`), and a tick already fired is not fired again. Without it a second engine
 * that wakes a little late, after a fast run released the lock, would fire the same tick again.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CronLock } from '../builtins/cron.js';

const LOCK_TTL_MS = 30_000;
/** How long a fired tick is remembered: far longer than any engine is late. */
const FIRED_TTL_MS = 24 * 60 * 60 * 1000;

const ACQUIRE = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
if last >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
return 1`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export function redisCronLock(redis: Redis, logger: Logger): CronLock {
  const instance = randomUUID();
  return {
    async acquire(jobId, scheduledMs) {
      try {
        const won = await redis.eval(
          ACQUIRE,
          2,
          `cron_lock:${jobId}`,
          `cron_last:${jobId}`,
          instance,
          String(scheduledMs),
          String(LOCK_TTL_MS),
          String(FIRED_TTL_MS),
        );
        return won === 1;
      } catch (error) {
        // As the engine: an error means "not acquired" (another engine may well run it).
        logger.error({ err: (error as Error).message, job_id: jobId }, 'Error acquiring cron lock');
        return false;
      }
    },
    async release(jobId) {
      try {
        await redis.eval(RELEASE, 1, `cron_lock:${jobId}`, instance);
      } catch (error) {
        logger.error({ err: (error as Error).message, job_id: jobId }, 'Error releasing cron lock');
      }
    },
  };
}
