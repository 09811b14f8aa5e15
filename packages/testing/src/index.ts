export { codeOf, stateSnapshot } from './assertions.js';
export { type DevEngine, startDevEngine } from './engine.js';
export { eventually } from './eventually.js';
export {
  type AnthropicScenario,
  type AnthropicScenarioStep,
  anthropicErrorBody,
  anthropicErrorType,
  DEFAULT_FAKE_ANTHROPIC_MODELS,
  type FakeAnthropicModel,
  type FakeAnthropicOptions,
  FakeAnthropicServer,
  startFakeAnthropic,
} from './fake-vendors/anthropic.js';
export {
  createLlamaCppServer,
  type FakeLlamaCppServer,
  LLAMACPP_LOADING_BODY,
  type LlamaCppFakeState,
  startLlamaCppServer,
} from './fake-vendors/llamacpp-extras.js';
export {
  createLmStudioServer,
  defaultLmStudioModels,
  type FakeLmStudioServer,
  type LmStudioModel,
  startLmStudioServer,
} from './fake-vendors/lmstudio-extras.js';
export {
  createOpenAICompatibleServer,
  type OpenAICompatibleFakeOptions,
  openAIErrorBody,
  startOpenAICompatibleServer,
} from './fake-vendors/openai-compatible.js';
export {
  type ChunkStyle,
  finishReasonOf,
  renderChatCompletion,
  renderChatCompletionFrames,
  type SseFrame,
  wireUsageOf,
} from './fake-vendors/openai-compatible-chunks.js';
export {
  type ResponsesStyle,
  renderResponsesFrames,
  responsesRequestProblem,
  responsesUsageOf,
} from './fake-vendors/openai-responses.js';
export { type RawSseFrame, type Scenario, type ScenarioStep, splitText } from './fake-vendors/scenario.js';
export { FakeVendorServer, type RecordedRequest, type Route, streamRawSse, writeSse } from './fake-vendors/server.js';
export { type CapturedLogs, captureLogs } from './logs.js';
export {
  binOf,
  ChildProc,
  type EngineProcess,
  freePort,
  type SpawnNodeOptions,
  spawnDevEngine,
  spawnNode,
  waitForPort,
} from './processes.js';
export { type ConformanceCase, type ConformanceSpec, providerConformanceCases } from './provider-conformance.js';
export {
  type ConformanceWire,
  chatCompletionsWire,
  responsesWire,
  type WireRequest,
} from './provider-conformance-wire.js';
export { type ProviderFixture, type ProviderFixtureOptions, startProviderFixture } from './provider-fixture.js';
export {
  openProviderStream,
  type ProviderEvent,
  type ProviderStreamOptions,
  type ProviderStreamResult,
  type ProviderStreamRun,
  streamFromProvider,
} from './provider-stream.js';
export {
  createScriptedProvider,
  lastUserText,
  type RecordedProviderRequest,
  type ScriptedConfig,
  type ScriptedProvider,
  type ScriptedProviderOptions,
  type ScriptedTurn,
  type ScriptedTurnInput,
  scriptedConfig,
  scriptedContracts,
  scriptedTurn,
} from './scripted-provider.js';
export { collectStream, type StreamCollector, type StreamEvent } from './streams.js';
export { connectClient, startTestWorker, type TestClient, type TestWorker } from './workers.js';
