export { type AgentEventInput, AgentEvents } from './agent-events.js';
export { Bus, type CallOptions, type Channel, type QueueConfig } from './bus.js';
export {
  ConfigError,
  DEFAULT_III_URL,
  type LifecycleSettings,
  type LoadConfigOptions,
  lifecycleSettings,
  loadWorkerConfig,
  parseWorkerFlags,
  type WorkerFlags,
} from './config.js';
export {
  contextWithTurn,
  currentTurnContext,
  TURN_BAGGAGE,
  type TurnContext,
  turnFromPayload,
} from './context.js';
export type { FunctionDef, Handler, HandlerContext } from './define.js';
export { formatZodIssues, fromInvocationError, HarnessError, isHarnessError, toWireError } from './errors.js';
export { globsMatcher, globToRegExp, matchesAnyGlob } from './globs.js';
export { createHandler, jsonSchemasOf } from './handler.js';
export { type HookSubscription, subscribeHook } from './hooks.js';
export { deterministicId, uuidv7, uuidv7Time } from './ids.js';
export { KeyedSerializer } from './keyed-serializer.js';
export {
  claimOnce,
  claimScheduledRun,
  LEASE_SCOPE,
  Lease,
  type LeaseOptions,
  type LeaseState,
  Leases,
  leaseState,
  type ScheduledRunOptions,
} from './lease.js';
export {
  DEFAULT_DRAIN_MS,
  type HealthServer,
  type HealthServerOptions,
  type Readiness,
  startHealthServer,
} from './lifecycle.js';

export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  openProviderStream,
  type ProviderStreamOptions,
  type ProviderStreamRequest,
  type ProviderStreamResult,
  type ProviderStreamRun,
  streamFromProvider,
} from './provider-stream.js';
export {
  isSecretKey,
  MIN_SECRET_LENGTH,
  maskSecrets,
  maskSecretValues,
  REDACTED,
  redact,
  registerEnvSecrets,
  registerSecret,
} from './secrets.js';
export { EngineState, parseStored, type UpdateOp, type UpdateResult } from './state.js';
export { EngineStreams } from './streams.js';
export { collectorEndpoint, exportToCollector } from './trace-export.js';
export {
  type FunctionCallSpan,
  payloadMaxBytes,
  payloadText,
  TRUNCATED,
  traceFunctionCall,
  tracePayloads,
} from './trace-payloads.js';
export {
  annotateSpan,
  captureTrace,
  ensureContextPropagation,
  functionSpanAttributes,
  inChildSpan,
  resumeTrace,
  type SpanHandle,
  type SpanSpec,
  sdkTelemetry,
  withSpan,
  withTrace,
  withTurnBaggage,
} from './tracing.js';
export { type Migration, type VersionedRecord, type VersionedRecordSpec, versionedRecord } from './versioned.js';
export {
  newInstanceId,
  packageVersion,
  RECONNECTION,
  runWorkerMain,
  type ShutdownOptions,
  type ShutdownReport,
  type StartOptions,
  startWorker,
  type TriggerSpec,
  Worker,
  type WorkerSpec,
  workerNameFor,
} from './worker.js';
