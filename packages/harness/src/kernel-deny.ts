import { type Contract, contracts, KERNEL_RULE_ID, type PolicyDeny } from '@iii-harness/types';
import { matchesName, type NameMatcher, nameMatcher, skeleton } from './policy-names.js';

/**
 * The kernel deny list: what no rule, mode or spelling lets an agent call, decided before any YAML
 * rule is read. It is one rule, not a list of names to keep growing:
 *
 *   A function in a namespace of the harness or the engine is denied to agents unless it is on
 *   AGENT_SAFE below (and its argument check passes).
 *
 * The reserved namespaces are those of every contract in the catalogue (`types`) — so a new
 * worker's functions are reserved from the day its contracts land — plus the engine's own and
 * the harness families declared without a fixed id; only the catalogue groups listed in
 * AGENT_TOOL_GROUPS (tools made for agents, such as `web::fetch`) are left to the rules. A new
 * function of the harness is therefore denied to agents by default; making it callable is a
 * reviewed line in AGENT_SAFE (or, for a new tool worker, in AGENT_TOOL_GROUPS).
 */

/** Catalogue groups that are tools for agents, not the harness's control surface: the rules decide them. */
export const AGENT_TOOL_GROUPS: readonly object[] = [contracts.web];

/** Namespaces reserved beyond the catalogue: engine builtins, parameterised families, other spellings. */
const EXTRA_RESERVED = [
  'engine',
  'iii',
  'queue',
  'state',
  'stream',
  'publish',
  'provider', // provider::<id>::* — a direct model call skips the budget reservation
  'ui', // ui::session::event::<client_id>, the pushes to operators' screens
  'run',
  'turn',
  'budget',
  'llm-budget',
  'llm_budget',
  'compaction',
  'hook-fanout',
  'hook',
];

/** The first segment of an id (`harness::ui::fanout` → `harness`; a bare `publish` → `publish`). */
const namespaceOf = (functionId: string) => functionId.split('::')[0]!;

function catalogueIds(): string[] {
  const ids: string[] = [];
  for (const group of Object.values(contracts) as Array<Record<string, unknown>>)
    if (!AGENT_TOOL_GROUPS.includes(group))
      for (const entry of Object.values(group))
        if (entry && typeof entry === 'object' && typeof (entry as Contract).id === 'string')
          ids.push((entry as Contract).id);
  return ids;
}

export const RESERVED_NAMESPACES: readonly string[] = [
  ...new Set([...catalogueIds().map(namespaceOf), ...EXTRA_RESERVED]),
].sort();

/** What must hold of the arguments for a safe function to stay allowed. */
export type SafeCheck =
  /** Always safe: reads of the catalogue. */
  | { kind: 'always' }
  /** Reads one session: only the asking agent's own (`args.session_id`). */
  | { kind: 'own_session' }
  /** Engine storage: only scopes / streams that are not the harness's own (PROTECTED_STORAGE). */
  | { kind: 'storage'; key: 'scope' | 'stream_name' };

export interface SafeEntry {
  id: string;
  check: SafeCheck;
  why: string;
}

const { engine, models, session, harness } = contracts;
const always: SafeCheck = { kind: 'always' };
const ownSession: SafeCheck = { kind: 'own_session' };
const scope: SafeCheck = { kind: 'storage', key: 'scope' };
const stream: SafeCheck = { kind: 'storage', key: 'stream_name' };

/**
 * The functions of reserved namespaces an agent may call, each with why it is harmless. Everything
 * else there — approvals, policy, turns, credentials, provider registry and model calls, budgets,
 * hooks, the UI fan-out and pushes, session writes and creation, queue and engine mutations,
 * listing other sessions or the engine's workers — is denied.
 */
export const AGENT_SAFE: readonly SafeEntry[] = [
  { id: engine.functionsList.id, check: always, why: 'discovery: what exists' },
  { id: engine.functionsInfo.id, check: always, why: "discovery: a function's schemas" },
  { id: models.list.id, check: always, why: 'the model catalog is public' },
  { id: models.get.id, check: always, why: 'the model catalog is public' },
  { id: models.supports.id, check: always, why: 'the model catalog is public' },
  { id: session.get.id, check: ownSession, why: 'its own session' },
  { id: session.messages.id, check: ownSession, why: 'its own transcript' },
  { id: session.tree.id, check: ownSession, why: "its own session's branches" },
  { id: session.export.id, check: ownSession, why: 'its own transcript' },
  { id: harness.status.id, check: ownSession, why: "its own turn's state" },
  ...[engine.stateGet, engine.stateList, engine.stateSet, engine.stateUpdate, engine.stateDelete].map((c) => ({
    id: c.id,
    check: scope,
    why: 'state of tools, not of the harness',
  })),
  ...[
    engine.streamGet,
    engine.streamList,
    engine.streamSet,
    engine.streamUpdate,
    engine.streamDelete,
    engine.streamSend,
  ].map((c) => ({ id: c.id, check: stream, why: 'streams of tools, not of the harness' })),
];

const spaced = (name: string) => [name, `${name}_*`, `${name}-*`, `${name}::*`, `${name}.*`, `${name}:*`];

/**
 * State scopes and stream names of the harness (globs; compared exactly and by skeleton): reading
 * them would show other sessions' transcripts, turns, approvals and events; writing them would
 * forge them. Every reserved namespace is protected as a name and as a prefix with a separator;
 * the `*` entries cover the harness's own scope names.
 */
export const PROTECTED_STORAGE: readonly string[] = [
  ...RESERVED_NAMESPACES.flatMap(spaced),
  'session*',
  'turn*',
  'approval*',
  'budget*',
  'llm_budget*',
  'llm-budget*',
  'models*',
  'harness*',
  'hook*',
  'compaction*',
  'policy*',
  'credential*',
  'auth*',
  // Streams agents must not forge or read (agent::events); `agent_*` stays free for tools' own scopes.
  'agent',
  'agent::*',
  'agent_event_seq',
];

export interface KernelSpec {
  reserved: ReadonlySet<string>;
  safe: ReadonlyMap<string, SafeEntry>;
  storage: NameMatcher[];
}

/** Compile the kernel, with the worker's own scopes and any configured extras added to the protected storage. */
export function compileKernel(extraStorage: readonly string[] = []): KernelSpec {
  return {
    reserved: new Set(RESERVED_NAMESPACES.map(skeleton)),
    safe: new Map(AGENT_SAFE.map((entry) => [entry.id, entry])),
    storage: [...new Set([...PROTECTED_STORAGE, ...extraStorage])].map(nameMatcher),
  };
}

/** Names in reasons are the caller's; keep them short. */
const clip = (text: string, max = 120): string => (text.length > max ? `${text.slice(0, max)}…` : text);

const deny = (reason: string): PolicyDeny => ({ decision: 'deny', rule_id: KERNEL_RULE_ID, reason });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Only an own string property names the target; anything else could hide another one. */
const ownString = (args: unknown, key: string): string | undefined => {
  const value = isPlainObject(args) && Object.hasOwn(args, key) ? args[key] : undefined;
  return typeof value === 'string' ? value : undefined;
};

function checkSafe(
  kernel: KernelSpec,
  entry: SafeEntry,
  args: unknown,
  callerSession: string | undefined,
): PolicyDeny | undefined {
  const { check } = entry;
  if (check.kind === 'always') return undefined;
  if (check.kind === 'own_session') {
    const target = ownString(args, 'session_id');
    if (callerSession !== undefined && target === callerSession) return undefined;
    return deny(
      `${entry.id} is allowed to an agent on its own session only${callerSession === undefined ? ' (the asking session is unknown)' : ''}`,
    );
  }
  const target = ownString(args, check.key);
  if (target === undefined) return deny(`${entry.id} needs a string "${check.key}" argument to be checked; denied`);
  const hit = kernel.storage.find((matcher) => matchesName(matcher, target, true, skeleton(target)));
  return hit
    ? deny(`${entry.id} on "${clip(target)}" touches the harness's own storage (${hit.pattern}); no rule can allow it`)
    : undefined;
}

/**
 * The kernel's verdict on an agent's call: a denial, or undefined to let the rules decide.
 * `callerSession` is the asking agent's session, for functions safe on its own session only.
 */
export function kernelDecision(
  kernel: KernelSpec,
  functionId: string,
  args: unknown,
  callerSession?: string,
): PolicyDeny | undefined {
  // The engine routes ids exactly, so only the exact id is on the safe list...
  const safe = kernel.safe.get(functionId);
  if (safe) return checkSafe(kernel, safe, args, callerSession);
  // ...while the namespace is compared by skeleton, so a look-alike of a reserved one is reserved too.
  const namespace = namespaceOf(skeleton(functionId));
  if (kernel.reserved.has(namespace))
    return deny(
      `${clip(functionId)} belongs to the harness (${clip(namespace, 40)}::*) and is not among the functions agents may call; no rule can allow it`,
    );
  return undefined;
}
