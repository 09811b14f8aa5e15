import { approval } from './approval.js';
import { auth } from './auth.js';
import { engine } from './engine.js';
import { harness, policy, ui } from './harness.js';
import { hookFanout } from './hook-fanout.js';
import { models } from './models.js';
import { provider } from './provider.js';
import { session } from './session.js';

/**
 * Every bus function the harness serves or calls, one contract each, grouped by the worker that
 * serves it (`engine` for the iii engine's builtins). Call as `bus.call(contracts.session.append, …)`.
 */
export const contracts = { engine, session, models, provider, harness, policy, ui, approval, hookFanout, auth };

export {
  type ApprovalDecisionRecord,
  type ApprovalHold,
  type ApprovalMode,
  type ApprovalSettings,
  approvalDecisionRecord,
  approvalHold,
  approvalMode,
  approvalSettings,
  functionCallId,
} from './approval.js';
export {
  type CredentialChange,
  credentialChange,
  credentialToken,
  type ProviderCredentialStatus,
  providerCredentialStatus,
  type TokenSource,
  tokenSource,
} from './auth.js';
export {
  functionDetail,
  functionSummary,
  type QueueConfig,
  queueConfig,
  registeredTrigger,
  type UpdateOp,
  updateOp,
} from './engine.js';
export {
  type RegisteredProvider,
  registeredProvider,
  type SendInput,
  type SendOutput,
  type StreamTriggerEvent,
  sendInput,
  sendOutput,
  streamTriggerEvent,
  type UiSubscriptionView,
  uiClientId,
  uiPushFunctionId,
  uiSubscriptionView,
} from './harness.js';
export {
  beforeFunctionCallPayload,
  beforeFunctionCallReply,
  HOOK_REPLY_FUNCTION,
  type HookEnvelope,
  type HookMergeRule,
  hookEnvelope,
  hookMergeRule,
} from './hook-fanout.js';
export { type CatalogChanges, catalogChanges } from './models.js';
export { type ProviderRequest, providerRequest, providerStreamInput } from './provider.js';
export { lastMessage, pathMessage, SESSION_MAX_BATCH, SESSION_MAX_PAGE, sessionCursorPattern } from './session.js';
