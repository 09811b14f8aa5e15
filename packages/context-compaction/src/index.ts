export { type Config, configSchema } from './config.js';
export { validCuts } from './cuts.js';
export { factsOf } from './ledger.js';
export { contextCompactionWorker, register } from './register.js';
export { estimateTokens } from './tokens.js';
