import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { ReplyCollector } from './collector.js';

export const reply = (collector: ReplyCollector) =>
  (({ hook_id, reply: value, subscriber }) => ({
    accepted: collector.reply(hook_id, value, subscriber),
  })) satisfies Handler<typeof contracts.hookFanout.reply>;
