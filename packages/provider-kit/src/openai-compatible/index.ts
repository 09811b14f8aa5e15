export { createOpenAICompatibleAdapter, type OpenAICompatibleOptions, type OpenAICompatibleAdapter, type ListModelsContext } from './adapter.js';
export { compatFor, defaultCompat, reasoningEffortOf, type OpenAICompat, type CompatSpec, type Effort } from './compat.js';
export { toWireMessages, wireToolCallId, type WireMessage, type WireToolCall, type ContentPart } from './convert-messages.js';
export { buildChatCompletionBody, type ChatCompletionBody } from './request.js';
export { ChatChunkMapper, usageFromWire, stopReasonFromWire, MAX_TOOL_INDEX, type ChatChunk, type ChatDelta, type WireUsage } from './stream-mapper.js';
export { vendorJson, VendorHttpError, errorMessageOf, serverRoot, withV1, type VendorRequest } from './http.js';
