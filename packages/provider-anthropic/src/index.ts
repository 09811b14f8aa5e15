export { providerAnthropicWorker, declaration, PROVIDER_ID } from './register.js';
export { configSchema, envOverrides, ANTHROPIC_KEY_ENV, DEFAULT_ANTHROPIC_URL, type Config } from './config.js';
export { createAnthropicAdapter } from './adapter.js';
export { buildRequest, type BuiltRequest } from './build-request.js';
export { convertMessages, wireToolName, wireToolUseId, type AnthropicMessage } from './convert-messages.js';
export { mapStream } from './map-stream.js';
export { mapStopReason } from './map-stop-reason.js';
export { anthropicFailure } from './map-error.js';
export { listModels, toModel, knownLimits, ANTHROPIC_DEFAULTS } from './list-models.js';
