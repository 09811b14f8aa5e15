import type { Bus } from '@iii-harness/runtime';
import { type Contract, type ContractInput, contracts } from '@iii-harness/types';
import type { z } from 'zod';
import { type ConsoleOps, localOps } from './console-ops.js';

/**
 * Every function a page may ask for, and nothing else. A frame naming any other id is refused
 * (and logged) before anything reaches the bus; a payload that breaks the function's input
 * schema is refused with the zod issues. Notably absent: `auth::get_token` and
 * `harness::provider::resolve` (they return secrets), `state::*` / `stream::*` / `engine::*`
 * writes, queues, `run::start` (sending goes through `harness::send`), `session::append` (the
 * transcript is the harness's to write), and every worker's internal functions.
 * `auth::set_token` only writes; `auth::status` never returns a secret.
 */

export interface CallContext {
  bus: Bus;
  ops: ConsoleOps;
}

export interface AllowedFunction {
  id: string;
  input: z.ZodType;
  run(payload: unknown, ctx: CallContext): Promise<unknown>;
}

const viaBus = <C extends Contract>(contract: C, timeoutMs?: number): AllowedFunction => ({
  id: contract.id,
  input: contract.input,
  run: (payload, { bus }) => bus.call(contract, payload as ContractInput<C>, { timeoutMs }),
});

const local = <S extends { id: string; input: z.ZodType }>(
  spec: S,
  run: (payload: z.output<S['input']>, ops: ConsoleOps) => Promise<unknown>,
): AllowedFunction => ({
  id: spec.id,
  input: spec.input,
  run: (payload, { ops }) => run(payload as z.output<S['input']>, ops),
});

export function buildAllowlist(timeouts: {
  call_timeout_ms: number;
  compact_timeout_ms: number;
}): Map<string, AllowedFunction> {
  const { session, harness, run, turn, approval, policy, models, auth, compaction, budget, engine } = contracts;
  const call = timeouts.call_timeout_ms;
  const entries: AllowedFunction[] = [
    // Chat: the session list, the transcript tree, branches, export, delete.
    viaBus(session.list, call),
    viaBus(session.get, call),
    viaBus(session.ensure, call),
    viaBus(session.tree, call),
    viaBus(session.messages, call),
    viaBus(session.getEntry, call),
    viaBus(session.fork, call),
    viaBus(session.setLeaf, call),
    viaBus(session.export, call),
    local(localOps.deleteSession, (p, ops) => ops.deleteSession(p.session_id)),
    // Sending, steering (a send while a turn runs merges into it), stopping.
    viaBus(harness.send, call),
    viaBus(harness.status, call),
    viaBus(run.abort, call),
    viaBus(turn.getState, call),
    // Approvals.
    viaBus(approval.listPending, call),
    viaBus(approval.resolve, call),
    viaBus(approval.getSettings, call),
    viaBus(approval.setMode, call),
    viaBus(approval.addAlwaysAllow, call),
    viaBus(approval.removeAlwaysAllow, call),
    viaBus(policy.checkPermissions, call),
    // Models and providers: keys are written, never read back.
    viaBus(models.list, call),
    viaBus(harness.providerList, call),
    viaBus(auth.status, call),
    viaBus(auth.setToken, call),
    viaBus(auth.deleteToken, call),
    // /compact (a summary can take minutes).
    viaBus(compaction.compactSession, timeouts.compact_timeout_ms),
    viaBus(compaction.getState, call),
    // Budgets and traces: read only.
    viaBus(budget.list, call),
    viaBus(budget.usage, call),
    viaBus(budget.forecast, call),
    viaBus(engine.tracesList, call),
    viaBus(engine.tracesTree, call),
    viaBus(engine.tracesGroupBy, call),
    viaBus(engine.logsList, call),
    // The console's own (console-ops.ts).
    local(localOps.providers, (_p, ops) => ops.providers()),
    local(localOps.refreshModels, (p, ops) => ops.refreshModels(p.provider)),
    local(localOps.activity, (p, ops) => ops.activity(p.session_id)),
    local(localOps.titles, (_p, ops) => ops.titles()),
    local(localOps.rename, (p, ops) => ops.rename(p.session_id, p.title)),
  ];
  return new Map(entries.map((entry) => [entry.id, entry]));
}
