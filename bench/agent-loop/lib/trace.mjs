// Bus operation counts for --trace: every worker of our stack runs in this process on the same
// `@iii-harness/runtime` module, so wrapping Bus.prototype counts every call any of them makes
// (state/stream helpers and session calls included) with its round-trip time. Calls made through
// a contract and by id both end in `invoke`, so that is what is wrapped.
import { Bus } from '@iii-harness/runtime';

const original = {
  invoke: Bus.prototype.invoke,
  callVoid: Bus.prototype.callVoid,
  enqueue: Bus.prototype.enqueue,
  createChannel: Bus.prototype.createChannel,
};
const idOf = (target) => (typeof target === 'string' ? target : target?.id);
let ops = null;
let callerOf = () => '?';

function record(key, began, bus) {
  if (!ops) return;
  const caller = callerOf(bus);
  const entry = ops.get(key) ?? { count: 0, ms: 0, callers: {} };
  entry.callers[caller] = (entry.callers[caller] ?? 0) + 1;
  entry.count += 1;
  entry.ms += performance.now() - began;
  ops.set(key, entry);
}

function wrap(name, keyOf) {
  Bus.prototype[name] = async function wrapped(...args) {
    const began = performance.now();
    try {
      return await original[name].apply(this, args);
    } finally {
      record(keyOf(args), began, this);
    }
  };
}

/** `nameOf(bus)` names the worker a Bus belongs to. */
export function installTrace(nameOf) {
  callerOf = nameOf;
  // Every call (through a contract or by id) goes through `invoke`.
  wrap('invoke', ([id]) => id);
  wrap('callVoid', ([contract]) => idOf(contract));
  wrap('enqueue', ([queue, target]) => `enqueue ${queue} → ${idOf(target)}`);
  wrap('createChannel', () => 'engine::channels::create');
}

/** Count the bus operations of `fn` (which must be the only thing running). */
export async function traceOps(fn) {
  ops = new Map();
  try {
    await fn();
    return ops;
  } finally {
    ops = null;
  }
}

/** Group a function id into the categories the report talks about. */
export function categoryOf(key) {
  if (key.startsWith('enqueue ')) return 'queue hops (step enqueues)';
  if (key === 'state::set' || key === 'state::update' || key === 'state::delete')
    return 'state writes (turn record, entries, counters)';
  if (key === 'state::get' || key === 'state::list') return 'state reads';
  if (key === 'stream::set') return 'agent::events items (stream::set)';
  if (key === 'stream::send') return 'session events (stream::send)';
  if (key.startsWith('session::') || key === 'run::start') return 'session and run calls';
  if (key.startsWith('policy::') || key.startsWith('approval::')) return 'gate (policy + approval mode)';
  if (key.startsWith('hook-fanout::') || key === 'engine::registered-triggers::list')
    return 'hooks (before/after function call)';
  if (
    key.startsWith('provider::') ||
    key.startsWith('harness::provider') ||
    key === 'engine::channels::create' ||
    key === 'auth::get_token' ||
    key === 'models::get'
  )
    return 'model calls (stream, settings, channel, model info)';
  if (key.startsWith('bench::')) return 'the tool itself';
  return `other (${key})`;
}
