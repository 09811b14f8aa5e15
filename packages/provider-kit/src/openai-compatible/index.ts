export {
  createOpenAICompatibleAdapter,
  type ListModelsContext,
  type OpenAICompatibleAdapter,
  type OpenAICompatibleOptions,
} from './adapter.js';
export {
  type CompatSpec,
  compatFor,
  defaultCompat,
  type Effort,
  type OpenAICompat,
  reasoningEffortOf,
} from './compat.js';
export {
  type ContentPart,
  toWireMessages,
  type WireMessage,
  type WireToolCall,
  wireToolCallId,
} from './convert-messages.js';
export { errorMessageOf, serverRoot, VendorHttpError, type VendorRequest, vendorJson, withV1 } from './http.js';
export { buildChatCompletionBody, type ChatCompletionBody } from './request.js';
export {
  type ChatChunk,
  ChatChunkMapper,
  type ChatDelta,
  MAX_TOOL_INDEX,
  stopReasonFromWire,
  usageFromWire,
  type WireUsage,
} from './stream-mapper.js';
