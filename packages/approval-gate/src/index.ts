export { type Config, configSchema } from './config.js';
export { approvalGateWorker, register } from './register.js';
export { decisionRecord, holdRecord, SCOPES, settingsRecord } from './store.js';
