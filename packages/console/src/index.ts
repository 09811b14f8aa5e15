export { buildAllowlist } from './allowlist.js';
export { type Config, configSchema, DEFAULT_PORT, envOverrides, parseConsoleFlags } from './config.js';
export { type ConsoleOptions, type RunningConsole, startConsole } from './console.js';
export type { EngineStatus, Features, PageFrame, ServerFrame } from './protocol.js';
export { AccessGuard, CONTENT_SECURITY_POLICY, isLoopbackHost } from './security.js';
