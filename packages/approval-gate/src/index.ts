export { approvalGateWorker, register } from './register.js';
export { configSchema, approvalMode, type Config, type ApprovalMode } from './config.js';
export type { Hold, DecisionRecord, Settings } from './store.js';
