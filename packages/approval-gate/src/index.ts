export { type ApprovalMode, approvalMode, type Config, configSchema } from './config.js';
export { approvalGateWorker, register } from './register.js';
export type { DecisionRecord, Hold, Settings } from './store.js';
