export { type Config, configSchema } from './config.js';
export { isBlocking, type MergeRule, mergeReplies, mergeRule } from './merge.js';
export type { HookEnvelope } from './publish-collect.js';
export { hookFanoutWorker, register } from './register.js';
