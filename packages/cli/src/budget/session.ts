import type { HarnessClient } from '../client.js';
import { coversSession, type SessionBudgets } from './format.js';

/**
 * The budgets that may cover a session, with their usage now: its own budgets and every workspace
 * and agent budget. `available: false` when llm-budget is not running (turns then run uncapped).
 */
export async function sessionBudgets(client: HarnessClient, sessionId: string): Promise<SessionBudgets> {
  if (!(await client.budgetsAvailable())) return { available: false };
  const all = await client.budgetsWithUsage();
  return {
    available: true,
    usage: all.filter((r) => coversSession(r.budget.scope, sessionId)).map((r) => r.usage),
  };
}
