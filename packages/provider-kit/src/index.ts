/** Shapes every provider uses, defined once in types; re-exported for the providers' convenience. */
export type {
  ProviderDeclaration,
  ProviderRequest,
  ResolvedProvider,
  ThinkingConfig,
  ToolSpec,
} from '@iii-harness/types';
export { AbortRegistry } from './abort-registry.js';
export {
  type ProviderConfig,
  providerConfig,
  providerConfigShape,
  providerEnvOverrides,
  retryPolicyOf,
} from './config.js';
export {
  type CachedResolver,
  cachedResolver,
  declareInBackground,
  type HarnessLink,
  type ResolveOptions,
  requireCredential,
  resolveSettings,
} from './declare.js';
export { discoveredModel, type ModelDefaults } from './discovery.js';
export { type EventWriter, INVALID_ARGUMENTS_KEY, parseToolArguments, StreamSink } from './event-sink.js';
export {
  classifyError,
  type FailureKind,
  isContextOverflow,
  kindForStatus,
  ProviderFailure,
  retryAfterFrom,
} from './failures.js';
export { MessageAccumulator, type MessageEnding } from './message-accumulator.js';
export * from './openai-compatible/index.js';
export * from './openai-responses/index.js';
export { costOf, priceFor } from './pricing.js';
export {
  type AdapterContext,
  createProviderWorker,
  type ProviderAdapter,
  type ProviderDefinition,
  type ProviderTools,
  type StreamOutcome,
  toHarnessError,
} from './provider-worker.js';
export { describeOutcome, requestSpan } from './request-span.js';
export {
  backoffDelay,
  defaultRetryPolicy,
  type RetryPolicy,
  retryBeforeFirstByte,
  type StreamAttempt,
  sleep,
} from './retry.js';
export { type RunRequest, runRequest } from './run-request.js';
