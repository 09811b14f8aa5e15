import { claimScheduledRun, type Handler } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import type { Deps } from './publish-collect.js';

/** Windows outlive their publisher only by accident; once past any deadline by a minute, they go. */
const GRACE_MS = 60_000;

export const sweep = ({ windows, config }: Deps) =>
  (async (input, { bus, logger }) => {
    if (!(await claimScheduledRun(bus, contracts.hookFanout.sweep.id, input))) return { removed: 0, skipped: true };
    const removed = await windows.removeOlderThan(Date.now() - config.max_timeout_ms - GRACE_MS);
    if (removed) logger.info({ removed }, 'removed hook windows left behind');
    return { removed };
  }) satisfies Handler<typeof contracts.hookFanout.sweep>;
