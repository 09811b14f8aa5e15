import { engine } from './engine.js';
import { models } from './models.js';
import { provider } from './provider.js';
import { session } from './session.js';
import { web } from './web.js';

/**
 * Every bus function the harness serves or calls, one contract each, grouped by the worker that
 * serves it (`engine` for the iii engine's builtins). Call as `bus.call(contracts.session.append, …)`.
 */
export const contracts = { engine, session, models, provider, web };

export { functionDetail, functionSummary, type QueueConfig, queueConfig, type UpdateOp, updateOp } from './engine.js';
export { type CatalogChanges, catalogChanges } from './models.js';
export { type ProviderRequest, providerRequest, providerStreamInput } from './provider.js';
export { lastMessage, pathMessage, SESSION_MAX_BATCH, SESSION_MAX_PAGE, sessionCursorPattern } from './session.js';
export {
  type WebFetchFormat,
  type WebFetchOutput,
  webFetchInput,
  webFetchOutput,
} from './web.js';
