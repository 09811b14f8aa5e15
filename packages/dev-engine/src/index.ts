export { startEngine, DEFAULT_HOST, DEFAULT_HTTP_PORT, DEFAULT_MAX_PAYLOAD, DEFAULT_PORT, type EngineOptions, type RunningEngine } from './engine.js';
export { ConfigError, defaultConfig, expandEnv, loadConfigFile, parseConfig, type EngineConfig } from './config.js';
export { parseFlags, runCli, type CliFlags } from './cli.js';
export { EngineError, type BuiltinFunction, type CallContext, type CallOptions, type EngineApi, type TriggerBinding, type TriggerTypeProvider } from './engine-api.js';
export { ENGINE_VERSION } from './catalogue.js';
export type { LogLevel } from './logger.js';
