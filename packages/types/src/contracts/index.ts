import { budget } from './budget.js';
import { engine } from './engine.js';
import { models } from './models.js';
import { provider } from './provider.js';
import { session } from './session.js';

/**
 * Every bus function the harness serves or calls, one contract each, grouped by the worker that
 * serves it (`engine` for the iii engine's builtins). Call as `bus.call(contracts.session.append, …)`.
 */
export const contracts = { engine, session, models, provider, budget };

export {
  BUDGET_ALERTS_STREAM,
  type Budget,
  type BudgetAlertEvent,
  type BudgetForecast,
  type BudgetPeriod,
  type BudgetScope,
  type BudgetScopeKind,
  type BudgetUsage,
  budgetAlertEvent,
  budgetForecast,
  budgetId,
  budgetPeriod,
  budgetRecord,
  budgetScope,
  budgetScopeKind,
  budgetUsage,
  type CallScopes,
  type CallUsage,
  callScopes,
  callUsage,
  commitUsageOf,
  formatMicroUsd,
  type ReserveResult,
  reservationId,
  reserveResult,
  type SettleResult,
  settleResult,
  timeZone,
} from './budget.js';
export { functionDetail, functionSummary, type QueueConfig, queueConfig, type UpdateOp, updateOp } from './engine.js';
export { type CatalogChanges, catalogChanges } from './models.js';
export { type ProviderRequest, providerRequest, providerStreamInput } from './provider.js';
export { lastMessage, pathMessage, SESSION_MAX_BATCH, SESSION_MAX_PAGE, sessionCursorPattern } from './session.js';
