export { type Config, configSchema } from './config.js';
export { type BatchCall, type TurnRecord, turnRecord } from './record.js';
export { register, turnOrchestratorWorker } from './register.js';
export { INTERRUPTED } from './results.js';
export { TURN_RECORD_VERSION } from './store.js';
export { AGENT_TRIGGER, agentTriggerTool } from './tools.js';
export { nextState, type StepOutcome, TRANSITIONS } from './transitions.js';
