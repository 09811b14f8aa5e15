export { type Config, configSchema } from './config.js';
export { isBlocking, mergeReplies } from './merge.js';
export { hookFanoutWorker, register } from './register.js';
