import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskSecrets, REDACTED } from '@iii-harness/runtime';
import { type CredentialKey, CredentialStore, parseCredentialKey } from '../src/index.js';

const RAW_KEY = `base64:${Buffer.alloc(32, 7).toString('base64')}`;
const OTHER_KEY = `hex:${'ab'.repeat(32)}`;
const PASSPHRASE = 'correct horse battery staple';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'auth-store-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh credentials path in a directory that does not exist yet. */
const freshPath = () => join(root, `case-${++n}`, 'nested', 'credentials.json');
const key = (value: string): CredentialKey => parseCredentialKey(value)!;
const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code: string; reason?: string }) => `${error.code}/${error.reason}`,
  );
const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('CredentialStore files', () => {
  it('creates the directory 0700 and the file 0600 even under a permissive umask, atomically', async () => {
    const path = freshPath();
    const previous = process.umask(0);
    try {
      await new CredentialStore({ path }).set('anthropic', 'sk-ant-first-token');
    } finally {
      process.umask(previous);
    }
    expect(modeOf(join(path, '..'))).toBe(0o700);
    expect(modeOf(join(path, '..', '..'))).toBe(0o700);
    expect(modeOf(path)).toBe(0o600);
    expect(readdirSync(join(path, '..'))).toEqual(['credentials.json']);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file).toEqual({
      v: 2,
      providers: { anthropic: { token: 'sk-ant-first-token', updated_at: expect.any(String) } },
    });
  });

  it('serializes concurrent writers so no update is lost', async () => {
    const path = freshPath();
    const store = new CredentialStore({ path });
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.set(`p${i}`, `token-number-${i}`)));
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => store.delete(`p${i}`)),
      ...Array.from({ length: 10 }, (_, i) => store.set(`q${i}`, `token-q-${i}`)),
    ]);
    const ids = Object.keys(await new CredentialStore({ path }).read()).sort();
    expect(ids).toEqual(
      [...Array.from({ length: 20 }, (_, i) => `p${i + 10}`), ...Array.from({ length: 10 }, (_, i) => `q${i}`)].sort(),
    );
  });

  it('serializes writers in different processes sharing the file (a lock file), so no update is lost', async () => {
    const path = freshPath();
    // Two stores do not share their in-process queue: only the lock file keeps them apart.
    const [a, b] = [new CredentialStore({ path }), new CredentialStore({ path })];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).set(`p${i}`, `token-number-${i}`)));
    expect(Object.keys(await a.read()).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `p${i}`).sort());
    expect(readdirSync(join(path, '..'))).toEqual(['credentials.json']);
  });

  it('breaks a lock left by a writer that died, on this host or long ago elsewhere', async () => {
    const path = freshPath();
    await new CredentialStore({ path }).set('openai', 'sk-open-ai-token');
    const lock = join(path, '..', '.credentials.json.lock');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock, `${hostname()} ${dead} 0123456789ab\n`);
    await new CredentialStore({ path }).set('anthropic', 'sk-ant-after-a-dead-lock');
    writeFileSync(lock, `some-other-host 1 0123456789ab\n`);
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(lock, old, old);
    await new CredentialStore({ path }).set('kimi', 'sk-kimi-after-an-old-lock');
    expect(Object.keys(await new CredentialStore({ path }).read()).sort()).toEqual(['anthropic', 'kimi', 'openai']);
    expect(readdirSync(join(path, '..'))).toEqual(['credentials.json']);
  });

  it('breaks a lock that names no holder at once (an older writer killed between creating and filling it)', async () => {
    const path = freshPath();
    await new CredentialStore({ path }).set('openai', 'sk-open-ai-token');
    writeFileSync(join(path, '..', '.credentials.json.lock'), '');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    // And what a writer killed between writing its holder line and linking it into place leaves.
    writeFileSync(join(path, '..', `.credentials.json.${dead}.0123456789ab.tmp`), `${hostname()} ${dead} x\n`);
    const started = Date.now();
    await new CredentialStore({ path }).set('anthropic', 'sk-ant-after-a-dead-taker');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(readdirSync(join(path, '..'))).toEqual(['credentials.json']);
  });

  it('waits for a live writer of another process to finish', async () => {
    const path = freshPath();
    await new CredentialStore({ path }).set('openai', 'sk-open-ai-token');
    const lock = join(path, '..', '.credentials.json.lock');
    // Held by a live process of this host (this one, under another token).
    writeFileSync(lock, `${hostname()} ${process.pid} fedcba987654\n`);
    let done = false;
    const writing = new CredentialStore({ path }).set('anthropic', 'sk-ant-waited-for-it').then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done).toBe(false);
    rmSync(lock);
    await writing;
    expect(Object.keys(await new CredentialStore({ path }).read()).sort()).toEqual(['anthropic', 'openai']);
  });

  it('reports delete of an unknown provider without writing', async () => {
    const path = freshPath();
    const store = new CredentialStore({ path });
    expect(await store.delete('nobody')).toBe(false);
    expect(() => statSync(path)).toThrow();
  });

  it('registers every token it loads so logs mask it', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(
      path,
      JSON.stringify({ version: 1, providers: { openai: { token: 'sk-loaded-from-disk-1234', updated_at: 'x' } } }),
      { mode: 0o600 },
    );
    expect(maskSecrets('key sk-loaded-from-disk-1234')).toBe('key sk-loaded-from-disk-1234');
    await new CredentialStore({ path }).read();
    expect(maskSecrets('key sk-loaded-from-disk-1234')).toBe(`key ${REDACTED}`);
  });

  it('tightens a file others can read, and warns about a shared directory', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
    chmodSync(join(path, '..'), 0o755);
    writeFileSync(path, JSON.stringify({ version: 1, providers: {} }));
    chmodSync(path, 0o644);
    const warnings: string[] = [];
    const store = new CredentialStore({ path, warn: (_details, message) => warnings.push(message) });
    await store.read();
    expect(modeOf(path)).toBe(0o600);
    await store.set('openai', 'sk-open-ai-token');
    expect(modeOf(join(path, '..'))).toBe(0o755); // an existing directory is not ours to change
    expect(warnings).toEqual([
      expect.stringContaining('now 0600'),
      expect.stringContaining('accessible to other users'),
    ]);
  });

  it('removes temp files left by a writer that died', async () => {
    const path = freshPath();
    await new CredentialStore({ path }).set('openai', 'sk-open-ai-token');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const leftover = join(path, '..', `.credentials.json.${dead}.0123456789ab.tmp`);
    writeFileSync(leftover, '{"version": 1, "provi');
    await new CredentialStore({ path }).read();
    expect(readdirSync(join(path, '..'))).toEqual(['credentials.json']);
  });

  it('says so when a leftover cannot be removed, and still reads the file', async () => {
    const path = freshPath();
    await new CredentialStore({ path }).set('openai', 'sk-open-ai-token');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    // A directory where a temp file should be: rm without `recursive` refuses it.
    const leftover = join(path, '..', `.credentials.json.${dead}.0123456789ab.tmp`);
    mkdirSync(leftover);
    writeFileSync(join(leftover, 'x'), 'x');
    const warnings: Array<{ details: Record<string, unknown>; message: string }> = [];
    const store = new CredentialStore({ path, warn: (details, message) => warnings.push({ details, message }) });
    expect(Object.keys(await store.read())).toEqual(['openai']);
    expect(warnings).toEqual([
      {
        details: { path, code: expect.any(String) },
        message: 'could not remove temp files left by an interrupted write (they may hold secrets)',
      },
    ]);
  });
});

describe('CredentialStore refuses files it cannot read, and never overwrites them', () => {
  const secret = 'sk-ant-secret-inside-corrupt-file';
  it.each([
    ['garbage', `{"version": 1, "providers": {"anthropic": {"token": "${secret}"`, 'credentials_corrupt'],
    ['an empty file', '', 'credentials_corrupt'],
    [
      'a wrong shape',
      JSON.stringify({ version: 1, providers: { anthropic: { token: 42, updated_at: secret } } }),
      'credentials_corrupt',
    ],
    [
      'a bad provider id',
      JSON.stringify({ version: 1, providers: { [secret.toUpperCase()]: { token: secret, updated_at: 'x' } } }),
      'credentials_corrupt',
    ],
    ['an array', JSON.stringify([secret]), 'credentials_corrupt'],
    ['a newer version', JSON.stringify({ v: 3, credentials: { anthropic: secret } }), 'unsupported_record_version'],
    ['a version that is not a number', JSON.stringify({ v: 'two', providers: {} }), 'credentials_corrupt'],
    ['no version at all', JSON.stringify({ providers: {} }), 'credentials_corrupt'],
  ])('%s', async (_name, content, reason) => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content, { mode: 0o600 });
    const store = new CredentialStore({ path });
    const error = await store.read().catch((e) => e);
    expect(error).toMatchObject({ code: 'unavailable', reason, retryable: false });
    expect(error.message).toContain(path);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain(secret.toUpperCase());
    expect(await reasonOf(store.set('openai', 'sk-new-token-1234'))).toBe(`unavailable/${reason}`);
    expect(await reasonOf(store.delete('anthropic'))).toBe(`unavailable/${reason}`);
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(readdirSync(join(path, '..'))).toEqual(['credentials.json']);
  });
});

describe('CredentialStore encryption', () => {
  it('seals the file with a raw key; the token is not in the file', async () => {
    const path = freshPath();
    await new CredentialStore({ path, key: key(RAW_KEY) }).set('anthropic', 'sk-ant-sealed-token');
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('sk-ant-sealed-token');
    expect(JSON.parse(text)).toMatchObject({ v: 2, cipher: { alg: 'aes-256-gcm', kdf: 'raw' } });
    expect(await new CredentialStore({ path, key: key(RAW_KEY) }).get('anthropic')).toMatchObject({
      token: 'sk-ant-sealed-token',
    });
  });

  it('gives clear errors for a wrong key, a missing key, or an altered file, and writes nothing', async () => {
    const path = freshPath();
    await new CredentialStore({ path, key: key(RAW_KEY) }).set('anthropic', 'sk-ant-sealed-token');
    const before = readFileSync(path, 'utf8');
    const wrong = new CredentialStore({ path, key: key(OTHER_KEY) });
    expect(await reasonOf(wrong.read())).toBe('unavailable/credentials_key_mismatch');
    expect(await reasonOf(wrong.set('openai', 'sk-another-token'))).toBe('unavailable/credentials_key_mismatch');
    const keyless = new CredentialStore({ path });
    expect(await reasonOf(keyless.read())).toBe('unavailable/credentials_key_required');
    expect(await reasonOf(keyless.set('openai', 'sk-another-token'))).toBe('unavailable/credentials_key_required');
    expect(readFileSync(path, 'utf8')).toBe(before);

    const altered = JSON.parse(before);
    altered.data = Buffer.from(
      Buffer.from(altered.data, 'base64').map((byte: number, i: number) => (i === 0 ? byte ^ 1 : byte)),
    ).toString('base64');
    writeFileSync(path, JSON.stringify(altered));
    expect(await reasonOf(new CredentialStore({ path, key: key(RAW_KEY) }).read())).toBe(
      'unavailable/credentials_key_mismatch',
    );
  });

  it('derives the key from a passphrase with scrypt, keeps the salt, and authenticates the header', async () => {
    const path = freshPath();
    const store = new CredentialStore({ path, key: key(PASSPHRASE) });
    await store.set('anthropic', 'sk-ant-pass-token');
    const first = JSON.parse(readFileSync(path, 'utf8'));
    expect(first.cipher).toMatchObject({ kdf: 'scrypt', n: 32768, r: 8, p: 1, salt: expect.any(String) });
    await store.set('openai', 'sk-openai-pass-token');
    const second = JSON.parse(readFileSync(path, 'utf8'));
    expect(second.cipher.salt).toBe(first.cipher.salt);
    expect(second.iv).not.toBe(first.iv);

    expect(Object.keys(await new CredentialStore({ path, key: key(PASSPHRASE) }).read())).toEqual([
      'anthropic',
      'openai',
    ]);
    expect(await reasonOf(new CredentialStore({ path, key: key('a different passphrase') }).read())).toBe(
      'unavailable/credentials_key_mismatch',
    );
    expect(await reasonOf(new CredentialStore({ path, key: key(RAW_KEY) }).read())).toBe(
      'unavailable/credentials_key_mismatch',
    );
    writeFileSync(path, JSON.stringify({ ...second, cipher: { ...second.cipher, n: 16384 } }));
    expect(await reasonOf(new CredentialStore({ path, key: key(PASSPHRASE) }).read())).toBe(
      'unavailable/credentials_key_mismatch',
    );
  });

  it('encrypts a plaintext file at its next write, with a warning', async () => {
    const path = freshPath();
    await new CredentialStore({ path }).set('anthropic', 'sk-ant-plain-token');
    const warnings: string[] = [];
    const store = new CredentialStore({ path, key: key(RAW_KEY), warn: (_d, message) => warnings.push(message) });
    expect(await store.get('anthropic')).toMatchObject({ token: 'sk-ant-plain-token' });
    expect(warnings).toEqual([expect.stringContaining('not encrypted yet')]);
    await store.set('openai', 'sk-openai-token-1');
    expect(readFileSync(path, 'utf8')).not.toContain('sk-ant-plain-token');
    expect(Object.keys(await new CredentialStore({ path, key: key(RAW_KEY) }).read())).toEqual(['anthropic', 'openai']);
  });
});

describe('parseCredentialKey', () => {
  it('reads raw keys and passphrases', () => {
    expect(parseCredentialKey(undefined)).toBeUndefined();
    expect(parseCredentialKey('')).toBeUndefined();
    expect(parseCredentialKey(RAW_KEY)).toEqual({ kind: 'raw', key: Buffer.alloc(32, 7) });
    expect(parseCredentialKey(OTHER_KEY)).toEqual({ kind: 'raw', key: Buffer.alloc(32, 0xab) });
    expect(parseCredentialKey(PASSPHRASE)).toEqual({ kind: 'passphrase', passphrase: PASSPHRASE });
  });

  it.each([
    [`base64:${Buffer.alloc(16).toString('base64')}`, 'exactly 32 bytes'],
    ['base64:not base64 at all!!', 'exactly 32 bytes'],
    [`hex:${'ab'.repeat(31)}`, 'exactly 32 bytes'],
    ['short', 'at least 12 characters'],
  ])('rejects %s', (value, message) => {
    expect(() => parseCredentialKey(value)).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining(message) }),
    );
  });
});
