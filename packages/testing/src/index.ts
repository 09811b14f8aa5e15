export { startDevEngine, type DevEngine } from './engine.js';
export { startTestWorker, connectClient, type TestWorker, type TestClient } from './workers.js';
export { captureLogs, type CapturedLogs } from './logs.js';
export { collectStream, type StreamCollector, type StreamEvent } from './streams.js';
export { eventually } from './eventually.js';
export {
  FakeAnthropicServer,
  startFakeAnthropic,
  anthropicErrorBody,
  anthropicErrorType,
  DEFAULT_FAKE_ANTHROPIC_MODELS,
  type FakeAnthropicOptions,
  type FakeAnthropicModel,
  type AnthropicScenario,
  type AnthropicScenarioStep,
} from './fake-vendors/anthropic.js';
export {
  createScriptedProvider,
  scriptedTurn,
  scriptedConfig,
  lastUserText,
  type ScriptedProvider,
  type ScriptedProviderOptions,
  type ScriptedTurn,
  type ScriptedTurnInput,
  type ScriptedConfig,
  type RecordedProviderRequest,
} from './scripted-provider.js';
export { splitText, type Scenario, type ScenarioStep } from './fake-vendors/scenario.js';
export { FakeVendorServer, writeSse, type Route, type RecordedRequest } from './fake-vendors/server.js';
export { createOpenAICompatibleServer, startOpenAICompatibleServer, openAIErrorBody, type OpenAICompatibleFakeOptions } from './fake-vendors/openai-compatible.js';
export { renderChatCompletionFrames, renderChatCompletion, wireUsageOf, finishReasonOf, type ChunkStyle, type SseFrame } from './fake-vendors/openai-compatible-chunks.js';
export { createLmStudioServer, startLmStudioServer, defaultLmStudioModels, type LmStudioModel, type FakeLmStudioServer } from './fake-vendors/lmstudio-extras.js';
export { createLlamaCppServer, startLlamaCppServer, LLAMACPP_LOADING_BODY, type FakeLlamaCppServer, type LlamaCppFakeState } from './fake-vendors/llamacpp-extras.js';
export { openProviderStream, streamFromProvider, type ProviderEvent, type ProviderStreamResult, type ProviderStreamRun, type ProviderStreamOptions } from './provider-stream.js';
export { startProviderFixture, type ProviderFixture, type ProviderFixtureOptions } from './provider-fixture.js';
export { providerConformanceCases, type ConformanceSpec, type ConformanceCase } from './provider-conformance.js';
