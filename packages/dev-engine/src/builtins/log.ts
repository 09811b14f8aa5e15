/**
 * `engine::log::{info,warn,error,debug,trace}`: take an OTel-style log input (`message`,
 * `data?`, trace/span ids) and log it through the engine's logger. They return no result.
 */
import type { EngineApi } from '../engine-api.js';
import { isPlainObject } from '../errors.js';

const LEVELS = ['info', 'warn', 'error', 'debug', 'trace'] as const;

export function installLog(api: EngineApi): void {
  for (const level of LEVELS) {
    api.registerFunction({
      id: `engine::log::${level}`,
      description: `Log a message at ${level} level`,
      worker: 'iii-observability',
      handler: (data, ctx) => {
        // Skip the copying and serializing below when the level is off (pino would drop it anyway).
        if (!api.logger.isLevelEnabled(level)) return undefined;
        const input: Record<string, unknown> = isPlainObject(data) ? data : { message: data };
        const { message, ...rest } = input;
        delete rest._caller_worker_id;
        api.logger[level](
          { source: 'worker', worker_id: ctx.callerWorkerId, ...rest },
          typeof message === 'string' ? message : JSON.stringify(message ?? null),
        );
        return undefined;
      },
    });
  }
}
