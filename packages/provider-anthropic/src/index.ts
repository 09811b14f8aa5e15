export { createAnthropicAdapter } from './adapter.js';
export { type BuiltRequest, buildRequest } from './build-request.js';
export { ANTHROPIC_KEY_ENV, type Config, configSchema, DEFAULT_ANTHROPIC_URL, envOverrides } from './config.js';
export { type AnthropicMessage, convertMessages, wireToolName, wireToolUseId } from './convert-messages.js';
export { ANTHROPIC_DEFAULTS, knownLimits, listModels, toModel } from './list-models.js';
export { anthropicFailure } from './map-error.js';
export { mapStopReason } from './map-stop-reason.js';
export { mapStream } from './map-stream.js';
export { declaration, PROVIDER_ID, providerAnthropicWorker } from './register.js';
