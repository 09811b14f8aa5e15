export { turnOrchestratorWorker, register } from './register.js';
export { configSchema, type Config } from './config.js';
export { turnRecord, type TurnRecord, type BatchCall } from './record.js';
export { AGENT_TRIGGER, agentTriggerTool } from './tools.js';
export { INTERRUPTED } from './results.js';
