import { KERNEL_RULE_ID, type PolicyDeny } from '@iii-harness/types';
import { matchesName, type NameMatcher, nameMatcher, skeleton } from './policy-names.js';

/**
 * The kernel deny list: the harness's own control surface, denied to agents before any YAML rule
 * is read. No rule, argument or spelling lifts it. It is data so it can be read and tested as such.
 */
export interface KernelEntry {
  pattern: string;
  /** Exact ids under `pattern` that stay open (read-only engine catalogue functions). */
  except?: readonly string[];
  why: string;
}

const BUDGET_MUTATIONS = ['create', 'update', 'delete', 'reset', 'reserve', 'commit', 'release', 'alert_set'];

export const KERNEL_DENIED_FUNCTIONS: readonly KernelEntry[] = [
  { pattern: 'approval::*', why: 'human decisions on held calls' },
  { pattern: 'policy::*', why: 'the permission policy itself' },
  { pattern: 'run::*', why: 'starting and aborting turns' },
  { pattern: 'turn::*', why: 'the durable turn state machine' },
  ...['set_token', 'get_token', 'delete_token'].map((op) => ({ pattern: `auth::${op}`, why: 'provider credentials' })),
  { pattern: 'harness::provider::*', why: 'provider declarations and resolved credentials' },
  // An agent may not start, steer or stop turns (its own or others'): that is the front door's job.
  ...['send', 'stop'].map((op) => ({ pattern: `harness::${op}`, why: 'starting, steering and stopping turns' })),
  { pattern: 'session::inbox::*', why: 'steering and follow-up messages stand for the user' },
  ...BUDGET_MUTATIONS.map((op) => ({ pattern: `budget::${op}`, why: 'spending caps and reservations' })),
  { pattern: 'hook-fanout::*', why: 'the hooks that gate function calls' },
  { pattern: 'session::delete', why: 'deleting a whole session' },
  // The transcript is the record of what the user and the model said: an agent may read it, not rewrite it.
  ...['append', 'append_batch', 'update_entry', 'set_leaf'].map((op) => ({
    pattern: `session::${op}`,
    why: 'writing the transcript the model is shown',
  })),
  { pattern: 'ui::*', why: "UI subscriptions and pushes to operators' screens" },
  {
    pattern: 'engine::*',
    except: [
      'engine::functions::list',
      'engine::functions::info',
      'engine::triggers::list',
      'engine::triggers::info',
      'engine::registered-triggers::list',
      'engine::registered-triggers::info',
      'engine::workers::list',
      'engine::workers::info',
    ],
    why: 'engine mutations: triggers, worker registration, queues, channels',
  },
  { pattern: 'queue::*', why: 'queue definitions and redrive (the turn-step queue)' },
  { pattern: 'iii::durable::publish', why: 'durable topics carry the function-call hooks' },
  { pattern: 'models::reconcile', why: 'catalog prices feed the budgets' },
  { pattern: 'provider::*', why: 'a direct model call skips the budget reservation' },
  { pattern: 'stream::*(*)', why: 'custom stream implementations' },
];

/** Builtin writes that are denied when they target a protected state scope or stream. */
export const STORAGE_WRITES: readonly { function: string; key: 'scope' | 'stream_name' }[] = [
  { function: 'state::set', key: 'scope' },
  { function: 'state::update', key: 'scope' },
  { function: 'state::delete', key: 'scope' },
  { function: 'stream::set', key: 'stream_name' },
  { function: 'stream::update', key: 'stream_name' },
  { function: 'stream::delete', key: 'stream_name' },
  { function: 'stream::send', key: 'stream_name' },
];

const spaced = (name: string) => [name, `${name}_*`, `${name}-*`, `${name}::*`, `${name}.*`];

/** State scopes and stream names of the harness workers (globs; compared exactly and by skeleton). */
export const PROTECTED_STORAGE: readonly string[] = [
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
  ...spaced('run'),
  ...spaced('auth'),
  ...spaced('ui'),
  // Streams agents must not forge (agent::events); `agent_*` stays free for tools' own scopes.
  'agent',
  'agent::*',
  'agent_event_seq',
];

export interface KernelSpec {
  functions: Array<{ matcher: NameMatcher; except: ReadonlySet<string>; why: string }>;
  writes: Array<{ folded: string; key: 'scope' | 'stream_name' }>;
  storage: NameMatcher[];
}

/** Compile the kernel lists, with the worker's own scopes and any configured extras added. */
export function compileKernel(extraStorage: readonly string[] = []): KernelSpec {
  return {
    functions: KERNEL_DENIED_FUNCTIONS.map((entry) => ({
      matcher: nameMatcher(entry.pattern),
      except: new Set(entry.except ?? []),
      why: entry.why,
    })),
    writes: STORAGE_WRITES.map((write) => ({ folded: skeleton(write.function), key: write.key })),
    storage: [...new Set([...PROTECTED_STORAGE, ...extraStorage])].map(nameMatcher),
  };
}

/** Names in reasons are the caller's; keep them short. */
export const clip = (text: string, max = 120): string => (text.length > max ? `${text.slice(0, max)}…` : text);

const deny = (reason: string): PolicyDeny => ({ decision: 'deny', rule_id: KERNEL_RULE_ID, reason });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The kernel's verdict on a call: a denial, or undefined to let the rules decide. */
export function kernelDecision(kernel: KernelSpec, functionId: string, args: unknown): PolicyDeny | undefined {
  const folded = skeleton(functionId);
  for (const entry of kernel.functions) {
    if (entry.except.has(functionId)) continue;
    if (matchesName(entry.matcher, functionId, true, folded))
      return deny(`${clip(functionId)} is part of the harness control surface (${entry.why}); no rule can allow it`);
  }
  const write = kernel.writes.find((w) => w.folded === folded);
  if (!write) return undefined;
  // Only an own string property names the target; anything else could hide a protected one.
  const target = isPlainObject(args) && Object.hasOwn(args, write.key) ? args[write.key] : undefined;
  if (typeof target !== 'string')
    return deny(`${clip(functionId)} needs a string "${write.key}" argument to be checked; denied`);
  const targetFolded = skeleton(target);
  const hit = kernel.storage.find((matcher) => matchesName(matcher, target, true, targetFolded));
  return hit
    ? deny(
        `${clip(functionId)} on "${clip(target)}" writes the harness's own storage (${hit.pattern}); no rule can allow it`,
      )
    : undefined;
}
