export { ENGINE_VERSION } from './catalogue.js';
export { type CliFlags, parseFlags, runCli } from './cli.js';
export { ConfigError, defaultConfig, type EngineConfig, expandEnv, loadConfigFile, parseConfig } from './config.js';
export {
  DEFAULT_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_PORT,
  type EngineOptions,
  type RunningEngine,
  startEngine,
} from './engine.js';
export {
  type BuiltinFunction,
  type CallContext,
  type CallOptions,
  type EngineApi,
  EngineError,
  type TriggerBinding,
  type TriggerTypeProvider,
} from './engine-api.js';
export type { LogLevel } from './logger.js';
