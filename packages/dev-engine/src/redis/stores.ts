/**
 * `iii-state` and `iii-stream` over Redis, in the real engine's layout so either can read the
 * other's data: state is one hash per scope (`state:<scope>`, field = key), a stream group one
 * hash per group (`stream:<name>:<group>`, field = item id; a name containing `:` is written
 * `b64~<base64url>`). Values are JSON text.
 *
 * `set` and `delete` are one Lua script each (read and write in one step). `update` reads, runs
 * the update ops here (the same code as the SQLite store, so both stores agree op for op), and
 * writes with a compare-and-set script that succeeds only if the value is still the one read;
 * otherwise it reads again and retries. So an update is atomic per key across every engine on the
 * Redis, without porting the ops to Lua.
 */
import type { Redis } from 'ioredis';
import type { StateStorage, StreamStorage, UpdateStep } from '../storage.js';

/** Absent value marker in the scripts: no JSON text is empty. */
const ABSENT = '';
/** A key written by many engines at once still converges; this many lost races means something is wrong. */
const MAX_UPDATE_ATTEMPTS = 1_000;

const SCRIPTS = {
  iiiGetSet: {
    numberOfKeys: 1,
    lua: `local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return old`,
  },
  iiiGetDel: {
    numberOfKeys: 1,
    lua: `local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then redis.call('HDEL', KEYS[1], ARGV[1]) end
return old`,
  },
  // ARGV: field, expected ('' = absent), next ('' = delete). 1 = written, 0 = value changed.
  iiiCompareSet: {
    numberOfKeys: 1,
    lua: `local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1`,
  },
} as const;

interface ScriptedRedis extends Redis {
  iiiGetSet(key: string, field: string, value: string): Promise<string | null>;
  iiiGetDel(key: string, field: string): Promise<string | null>;
  iiiCompareSet(key: string, field: string, expected: string, next: string): Promise<number>;
}

/** Defines the scripts once per connection (ioredis sends EVALSHA, and the script on NOSCRIPT). */
function scripted(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.iiiCompareSet !== 'function')
    for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  return r;
}

function decode(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

/** Hashes of JSON values: the part both stores share. */
class RedisHashes {
  readonly #redis: ScriptedRedis;
  /** The last update queued per hash field: this engine sends one at a time per field. */
  readonly #updating = new Map<string, Promise<unknown>>();

  constructor(redis: Redis) {
    this.#redis = scripted(redis);
  }

  async get(key: string, field: string): Promise<unknown> {
    return decode(await this.#redis.hget(key, field));
  }

  async set(key: string, field: string, value: unknown): Promise<unknown> {
    return decode(await this.#redis.iiiGetSet(key, field, JSON.stringify(value)));
  }

  async delete(key: string, field: string): Promise<unknown> {
    return decode(await this.#redis.iiiGetDel(key, field));
  }

  /**
   * Updates of one field from this engine run one after another, so only updates from different
   * engines race for it: with many concurrent updates of a hot key, each compare-and-set round has
   * one contender per engine instead of one per caller (no caller starves retrying).
   */
  update<T>(key: string, field: string, step: UpdateStep<T>): Promise<T> {
    const id = `${key}\u0000${field}`;
    const run = (this.#updating.get(id) ?? Promise.resolve()).then(
      () => this.#compareAndSet(key, field, step),
      () => this.#compareAndSet(key, field, step),
    );
    this.#updating.set(id, run);
    const forget = () => {
      if (this.#updating.get(id) === run) this.#updating.delete(id);
    };
    run.then(forget, forget);
    return run;
  }

  async #compareAndSet<T>(key: string, field: string, step: UpdateStep<T>): Promise<T> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const stored = await this.#redis.hget(key, field);
      const { value, result } = step(decode(stored), () => decode(stored));
      const next = value === undefined ? ABSENT : JSON.stringify(value);
      if ((await this.#redis.iiiCompareSet(key, field, stored ?? ABSENT, next)) === 1) return result;
    }
    throw new Error(`update of ${key} ${field} lost ${MAX_UPDATE_ATTEMPTS} races in a row`);
  }

  async values(key: string): Promise<unknown[]> {
    return (await this.#redis.hvals(key)).map((text) => JSON.parse(text));
  }

  /** Every key matching `prefix*` (SCAN, never KEYS). */
  async keys(prefix: string): Promise<string[]> {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500);
      for (const key of keys) found.add(key);
      cursor = next;
    } while (cursor !== '0');
    return [...found];
  }
}

const STATE_PREFIX = 'state:';

export class RedisStateStore implements StateStorage {
  readonly #hashes: RedisHashes;

  constructor(redis: Redis) {
    this.#hashes = new RedisHashes(redis);
  }

  get(scope: string, key: string): Promise<unknown> {
    return this.#hashes.get(STATE_PREFIX + scope, key);
  }

  set(scope: string, key: string, value: unknown): Promise<unknown> {
    return this.#hashes.set(STATE_PREFIX + scope, key, value);
  }

  update<T>(scope: string, key: string, step: UpdateStep<T>): Promise<T> {
    return this.#hashes.update(STATE_PREFIX + scope, key, step);
  }

  delete(scope: string, key: string): Promise<unknown> {
    return this.#hashes.delete(STATE_PREFIX + scope, key);
  }

  list(scope: string): Promise<unknown[]> {
    return this.#hashes.values(STATE_PREFIX + scope);
  }

  async groups(): Promise<string[]> {
    return (await this.#hashes.keys(STATE_PREFIX)).map((key) => key.slice(STATE_PREFIX.length)).sort();
  }
}

const STREAM_PREFIX = 'stream:';
const ENCODED_NAME = 'b64~';

/** `stream:<name>:<group>`; a name that contains `:` (or starts with the marker) is base64url-encoded. */
export function streamKey(stream: string, group: string): string {
  return `${streamPrefix(stream)}${group}`;
}

function streamPrefix(stream: string): string {
  const name =
    stream.includes(':') || stream.startsWith(ENCODED_NAME)
      ? ENCODED_NAME + Buffer.from(stream, 'utf8').toString('base64url')
      : stream;
  return `${STREAM_PREFIX}${name}:`;
}

/** `[stream, group]` of a stream key, or undefined for a key that is not one. */
export function parseStreamKey(key: string): [string, string] | undefined {
  if (!key.startsWith(STREAM_PREFIX)) return undefined;
  const rest = key.slice(STREAM_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon < 0) return undefined;
  const name = rest.slice(0, colon);
  const stream = name.startsWith(ENCODED_NAME)
    ? Buffer.from(name.slice(ENCODED_NAME.length), 'base64url').toString('utf8')
    : name;
  return [stream, rest.slice(colon + 1)];
}

export class RedisStreamStore implements StreamStorage {
  readonly #hashes: RedisHashes;

  constructor(redis: Redis) {
    this.#hashes = new RedisHashes(redis);
  }

  get(stream: string, group: string, item: string): Promise<unknown> {
    return this.#hashes.get(streamKey(stream, group), item);
  }

  set(stream: string, group: string, item: string, value: unknown): Promise<unknown> {
    return this.#hashes.set(streamKey(stream, group), item, value);
  }

  update<T>(stream: string, group: string, item: string, step: UpdateStep<T>): Promise<T> {
    return this.#hashes.update(streamKey(stream, group), item, step);
  }

  delete(stream: string, group: string, item: string): Promise<unknown> {
    return this.#hashes.delete(streamKey(stream, group), item);
  }

  list(stream: string, group: string): Promise<unknown[]> {
    return this.#hashes.values(streamKey(stream, group));
  }

  async groups(stream: string): Promise<string[]> {
    const prefix = streamPrefix(stream);
    return (await this.#hashes.keys(prefix)).map((key) => key.slice(prefix.length)).sort();
  }

  async streams(): Promise<Array<{ id: string; groups: string[] }>> {
    const byStream = new Map<string, string[]>();
    for (const key of await this.#hashes.keys(STREAM_PREFIX)) {
      const parsed = parseStreamKey(key);
      if (!parsed) continue;
      const groups = byStream.get(parsed[0]) ?? [];
      groups.push(parsed[1]);
      byStream.set(parsed[0], groups);
    }
    return [...byStream]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, groups]) => ({ id, groups: groups.sort() }));
  }
}

/** SCAN MATCH treats `*?[]\` as glob syntax; names may contain them. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
