export { hookFanoutWorker, register } from './register.js';
export { configSchema, type Config } from './config.js';
export { mergeReplies, isBlocking, mergeRule, type MergeRule } from './merge.js';
export type { HookEnvelope } from './publish-collect.js';
