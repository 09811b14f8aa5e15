export { createOpenAIResponsesAdapter, type OpenAIResponsesOptions } from './adapter.js';
export {
  type ResponsesInputContent,
  type ResponsesInputItem,
  type ResponsesReasoningItem,
  reasoningFromSignature,
  reasoningSignature,
  toResponsesInput,
} from './convert-input.js';
export { buildResponsesBody, type ReasoningSummary, type ResponsesBody } from './request.js';
export { type ResponsesEvent, ResponsesStreamMapper } from './stream-mapper.js';
