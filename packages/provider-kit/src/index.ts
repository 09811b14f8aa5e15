export {
  toolSpec,
  thinkingConfig,
  channelWriter,
  streamInput,
  completeInput,
  abortInput,
  refreshModelsInput,
  providerDeclaration,
  resolvedProvider,
  modelList,
  type ToolSpec,
  type ThinkingConfig,
  type StreamInput,
  type CompleteInput,
  type ProviderRequest,
  type ProviderDeclaration,
  type ResolvedProvider,
} from './schemas.js';
export { StreamSink, parseToolArguments, INVALID_ARGUMENTS_KEY, type EventWriter } from './event-sink.js';
export { MessageAccumulator } from './message-accumulator.js';
export { ProviderFailure, classifyError, kindForStatus, retryAfterFrom, type FailureKind } from './failures.js';
export { retryBeforeFirstByte, backoffDelay, sleep, defaultRetryPolicy, type RetryPolicy, type StreamAttempt } from './retry.js';
export { AbortRegistry } from './abort-registry.js';
export { declareInBackground, resolveSettings, cachedResolver, requireCredential, type CachedResolver } from './declare.js';
export { priceFor, costOf } from './pricing.js';
export { discoveredModel, type ModelDefaults } from './discovery.js';
export { providerConfig, providerConfigShape, providerEnvOverrides, retryPolicyOf, type ProviderConfig } from './config.js';
export {
  createProviderWorker,
  toHarnessError,
  type ProviderAdapter,
  type ProviderDefinition,
  type ProviderTools,
  type AdapterContext,
  type StreamOutcome,
} from './provider-worker.js';
export * from './openai-compatible/index.js';
