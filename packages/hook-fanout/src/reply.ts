import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import type { ReplyCollector } from './collector.js';

export const reply = (collector: ReplyCollector) =>
  defineFunction({
    id: 'hook-fanout::reply',
    description: 'Answer a published hook; accepted only while its collection window is open',
    input: z.object({ hook_id: z.string().min(1), reply: z.unknown(), subscriber: z.string().optional() }).strict(),
    output: z.object({ accepted: z.boolean() }),
    handler: ({ hook_id, reply: value, subscriber }) => ({ accepted: collector.reply(hook_id, value, subscriber) }),
  });
