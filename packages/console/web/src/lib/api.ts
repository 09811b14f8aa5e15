import type { AgentEvent, Contract, ContractInput, ContractOutput, contracts } from '@iii-harness/types';
import type { ProviderStatus, TurnSummary } from '../../../src/protocol';

/**
 * The functions the page calls, typed from the same contracts the server enforces (types only:
 * nothing of zod reaches the browser). The server's allowlist is the authority; this map is
 * what the page was written against.
 */
type C = typeof contracts;

interface Local<I, O> {
  input: I;
  output: O;
}

type ContractFns = {
  'session::list': C['session']['list'];
  'session::get': C['session']['get'];
  'session::ensure': C['session']['ensure'];
  'session::tree': C['session']['tree'];
  'session::messages': C['session']['messages'];
  'session::get_entry': C['session']['getEntry'];
  'session::fork': C['session']['fork'];
  'session::set_leaf': C['session']['setLeaf'];
  'session::export': C['session']['export'];
  'harness::send': C['harness']['send'];
  'harness::status': C['harness']['status'];
  'harness::provider::list': C['harness']['providerList'];
  'run::abort': C['run']['abort'];
  'turn::get_state': C['turn']['getState'];
  'approval::list_pending': C['approval']['listPending'];
  'approval::resolve': C['approval']['resolve'];
  'approval::get_settings': C['approval']['getSettings'];
  'approval::set_mode': C['approval']['setMode'];
  'approval::add_always_allow': C['approval']['addAlwaysAllow'];
  'approval::remove_always_allow': C['approval']['removeAlwaysAllow'];
  'policy::check_permissions': C['policy']['checkPermissions'];
  'models::list': C['models']['list'];
  'auth::status': C['auth']['status'];
  'auth::set_token': C['auth']['setToken'];
  'auth::delete_token': C['auth']['deleteToken'];
  'compaction::compact_session': C['compaction']['compactSession'];
  'compaction::get_state': C['compaction']['getState'];
  'budget::list': C['budget']['list'];
  'budget::usage': C['budget']['usage'];
  'budget::forecast': C['budget']['forecast'];
  'engine::traces::list': C['engine']['tracesList'];
  'engine::traces::tree': C['engine']['tracesTree'];
  'engine::traces::group_by': C['engine']['tracesGroupBy'];
  'engine::logs::list': C['engine']['logsList'];
};

type LocalFns = {
  'console.delete_session': Local<{ session_id: string }, { session_id: string; deleted_entries: number }>;
  'console.providers': Local<Record<string, never>, { providers: ProviderStatus[] }>;
  'console.refresh_models': Local<{ provider: string }, { provider: string; count: number; ids: string[] }>;
  'console.activity': Local<{ session_id: string }, { turns: TurnSummary[]; live: AgentEvent[]; last_seq: number }>;
  'console.titles': Local<Record<string, never>, { titles: Array<{ session_id: string; title: string }> }>;
  'console.rename': Local<{ session_id: string; title: string }, { session_id: string; title: string | null }>;
};

export type FnId = keyof ContractFns | keyof LocalFns;

export type CallInput<K extends FnId> = K extends keyof ContractFns
  ? ContractFns[K] extends Contract
    ? ContractInput<ContractFns[K]>
    : never
  : K extends keyof LocalFns
    ? LocalFns[K]['input']
    : never;

export type CallOutput<K extends FnId> = K extends keyof ContractFns
  ? ContractFns[K] extends Contract
    ? ContractOutput<ContractFns[K]>
    : never
  : K extends keyof LocalFns
    ? LocalFns[K]['output']
    : never;
