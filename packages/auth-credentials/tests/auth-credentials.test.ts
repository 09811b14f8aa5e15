import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { authCredentialsSpec, type Config } from '../src/index.js';

const { auth, engine: builtins } = contracts;

const KEY = `base64:${Buffer.alloc(32, 42).toString('base64')}`;
const ENV_ANTHROPIC = 'sk-ant-from-the-environment-0001';
const ENV_CUSTOM = 'custom-vendor-env-secret-0002';
const STORED_OPENAI = 'sk-openai-stored-secret-0003';
const STORED_ANTHROPIC = 'sk-ant-stored-secret-0004';
const SECRETS = [KEY, ENV_ANTHROPIC, ENV_CUSTOM, STORED_OPENAI, STORED_ANTHROPIC];
const FUNCTIONS = Object.values(auth).map((c) => c.id);

const env = {
  IIH_CREDENTIALS_KEY: KEY,
  ANTHROPIC_API_KEY: ENV_ANTHROPIC,
  CUSTOM_VENDOR_KEY: ENV_CUSTOM,
  OPENAI_API_KEY: '',
};

let engine: DevEngine;
let worker: TestWorker<Config>;
let client: TestClient;
let root: string;
let path: string;
let config: Partial<Config>;
const events: unknown[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'auth-it-'));
  path = join(root, 'home', '.iii', 'credentials.json');
  config = { store_path: path, env_vars: { custom: 'CUSTOM_VENDOR_KEY', lmstudio: null } };
  engine = await startDevEngine();
  worker = await startTestWorker(authCredentialsSpec(env), { url: engine.url, config });
  client = await connectClient(engine.url);
  client.client.registerFunction('test::auth_changed', async (event: unknown) => void events.push(event));
  client.client.registerTrigger({
    type: 'subscribe',
    function_id: 'test::auth_changed',
    config: { topic: 'auth::changed' },
  });
  await client.bus.call(builtins.functionsList, {}); // the trigger is registered once this round trip returns
});

afterAll(async () => {
  await client.close();
  await worker.shutdown();
  await engine.close();
  rmSync(root, { recursive: true, force: true });
});

/** Over the wire without a contract: for payloads the contract would not let us send. */
const invoke = (id: string, payload: unknown) => client.bus.invoke(id, payload) as Promise<any>;
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code: string; reason?: string }) => (error.reason ? `${error.code}/${error.reason}` : error.code),
  );
const fileText = () => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '<absent>';
  }
};
/** Everything a call could change: the file on disk and what the vault reports. */
const snapshot = async () => ({
  file: fileText(),
  status: await client.bus.call(auth.status, {}),
  providers: await client.bus.call(auth.listProviders, {}),
});

describe('auth-credentials', () => {
  it('documents every function with a description and both schemas', async () => {
    for (const id of FUNCTIONS) {
      const info = await client.bus.call(builtins.functionsInfo, { function_id: id });
      expect(info.description).toEqual(expect.any(String));
      expect(info.request_schema).toMatchObject({ type: 'object' });
      expect(info.response_schema).toMatchObject({ type: 'object' });
    }
  });

  it('starts from the environment: known providers, env fallback, not_found when neither', async () => {
    expect(await client.bus.call(auth.listProviders, {})).toEqual({
      providers: ['anthropic', 'custom', 'kimi', 'llamacpp', 'openai'],
    });
    expect(await client.bus.call(auth.getToken, { provider: 'anthropic' })).toEqual({
      provider: 'anthropic',
      token: ENV_ANTHROPIC,
      source: 'environment',
    });
    expect(await client.bus.call(auth.getToken, { provider: 'custom' })).toEqual({
      provider: 'custom',
      token: ENV_CUSTOM,
      source: 'environment',
    });
    expect(await failureOf(client.bus.call(auth.getToken, { provider: 'openai' }))).toBe(
      'not_found/credential_missing',
    );
    expect(await failureOf(client.bus.call(auth.getToken, { provider: 'lmstudio' }))).toBe(
      'not_found/credential_missing',
    );
    const { providers } = await client.bus.call(auth.status, {});
    expect(providers).toEqual([
      { provider: 'anthropic', configured: true, source: 'environment', env_var: 'ANTHROPIC_API_KEY' },
      { provider: 'custom', configured: true, source: 'environment', env_var: 'CUSTOM_VENDOR_KEY' },
      { provider: 'kimi', configured: false, source: null, env_var: 'MOONSHOT_API_KEY' },
      { provider: 'llamacpp', configured: false, source: null, env_var: 'LLAMACPP_API_KEY' },
      { provider: 'openai', configured: false, source: null, env_var: 'OPENAI_API_KEY' },
    ]);
    expect(fileText()).toBe('<absent>');
  });

  it('stores tokens encrypted in a 0600 file in a 0700 directory; stored wins over the environment', async () => {
    expect(await client.bus.call(auth.setToken, { provider: 'openai', token: STORED_OPENAI })).toMatchObject({
      provider: 'openai',
      source: 'stored',
      replaced: false,
    });
    expect(
      await client.bus.call(auth.setToken, { provider: 'anthropic', token: 'sk-ant-to-be-replaced-0005' }),
    ).toMatchObject({ replaced: false });
    expect(await client.bus.call(auth.setToken, { provider: 'anthropic', token: STORED_ANTHROPIC })).toMatchObject({
      replaced: true,
    });
    expect(
      await client.bus.call(auth.setToken, { provider: 'zeta-ai', token: 'zeta-token-stored-0006' }),
    ).toMatchObject({
      replaced: false,
    });

    expect(await client.bus.call(auth.getToken, { provider: 'anthropic' })).toEqual({
      provider: 'anthropic',
      token: STORED_ANTHROPIC,
      source: 'stored',
    });
    expect(await client.bus.call(auth.getToken, { provider: 'openai' })).toEqual({
      provider: 'openai',
      token: STORED_OPENAI,
      source: 'stored',
    });
    expect(await client.bus.call(auth.listProviders, {})).toEqual({
      providers: ['anthropic', 'custom', 'kimi', 'llamacpp', 'openai', 'zeta-ai'],
    });
    expect(await client.bus.call(auth.status, { provider: 'zeta-ai' })).toEqual({
      providers: [
        { provider: 'zeta-ai', configured: true, source: 'stored', env_var: null, updated_at: expect.any(String) },
      ],
    });
    expect(await client.bus.call(auth.status, { provider: 'nobody' })).toEqual({
      providers: [{ provider: 'nobody', configured: false, source: null, env_var: null }],
    });

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    const text = fileText();
    expect(JSON.parse(text)).toMatchObject({ v: 2, cipher: { alg: 'aes-256-gcm', kdf: 'raw' } });
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('deletes idempotently and reports whether the environment still provides a token', async () => {
    expect(await client.bus.call(auth.deleteToken, { provider: 'anthropic' })).toEqual({
      provider: 'anthropic',
      deleted: true,
      configured: true,
      source: 'environment',
    });
    expect(await client.bus.call(auth.getToken, { provider: 'anthropic' })).toEqual({
      provider: 'anthropic',
      token: ENV_ANTHROPIC,
      source: 'environment',
    });
    expect(await client.bus.call(auth.deleteToken, { provider: 'anthropic' })).toEqual({
      provider: 'anthropic',
      deleted: false,
      configured: true,
      source: 'environment',
    });
    expect(await client.bus.call(auth.deleteToken, { provider: 'zeta-ai' })).toEqual({
      provider: 'zeta-ai',
      deleted: true,
      configured: false,
      source: null,
    });
    expect(await failureOf(client.bus.call(auth.getToken, { provider: 'zeta-ai' }))).toBe(
      'not_found/credential_missing',
    );
    expect((await client.bus.call(auth.listProviders, {})).providers).not.toContain('zeta-ai');
  });

  it('announces every change on auth::changed, without the secret', async () => {
    await eventually(() =>
      expect(events).toEqual([
        { provider: 'openai', action: 'set', configured: true, source: 'stored' },
        { provider: 'anthropic', action: 'set', configured: true, source: 'stored' },
        { provider: 'anthropic', action: 'set', configured: true, source: 'stored' },
        { provider: 'zeta-ai', action: 'set', configured: true, source: 'stored' },
        { provider: 'anthropic', action: 'delete', configured: true, source: 'environment' },
        { provider: 'zeta-ai', action: 'delete', configured: false, source: null },
      ]),
    );
  });

  it('keeps every secret out of status, events, errors and logs', async () => {
    const secret = 'sk-kimi-secret-for-the-log-test-0009';
    await client.bus.call(auth.setToken, { provider: 'kimi', token: secret });
    expect((await client.bus.call(auth.getToken, { provider: 'kimi' })).token).toBe(secret);
    const status = JSON.stringify(await client.bus.call(auth.status, {}));
    const errors = await Promise.all([
      invoke(auth.setToken.id, { provider: 'Kimi', token: secret }).catch((e: Error) => e.message),
      invoke(auth.setToken.id, { provider: 'kimi', token: `${secret} ` }).catch((e: Error) => e.message),
      invoke(auth.getToken.id, { provider: 'openai', token: secret }).catch((e: Error) => e.message),
    ]);
    await client.bus.call(auth.deleteToken, { provider: 'kimi' });
    await eventually(() =>
      expect(events).toContainEqual({ provider: 'kimi', action: 'delete', configured: false, source: null }),
    );
    const seen = JSON.stringify(events);
    const logs = worker.logs.text();
    expect(logs).toContain('credential stored'); // the logs are really captured
    expect(logs).toContain('credential deleted');
    for (const value of [...SECRETS, secret, 'sk-ant-to-be-replaced-0005', 'zeta-token-stored-0006']) {
      expect(status).not.toContain(value);
      expect(seen).not.toContain(value);
      expect(logs).not.toContain(value);
      for (const message of errors) expect(message).not.toContain(value);
    }
  });

  it.each([
    ['auth::set_token', { provider: 'Bad Id', token: 'a-valid-token-123' }],
    ['auth::set_token', { provider: 'openai' }],
    ['auth::set_token', { provider: 'openai', token: 'short' }],
    ['auth::set_token', { provider: 'openai', token: 'sk-with-a-newline-123\n' }],
    ['auth::set_token', { provider: 'openai', token: 'a-valid-token-123', label: 'x' }],
    ['auth::get_token', {}],
    ['auth::get_token', { provider: '../etc/passwd' }],
    ['auth::delete_token', { provider: '' }],
    ['auth::delete_token', { provider: 'openai', force: true }],
    ['auth::status', { provider: 'UPPER' }],
    ['auth::status', { verbose: true }],
    ['auth::list_providers', { provider: 'openai' }],
  ])('%s rejects malformed input %j with invalid_payload and changes nothing', async (id, payload) => {
    const before = await snapshot();
    expect(await failureOf(invoke(id, payload))).toBe('invalid_payload');
    expect(await snapshot()).toEqual(before);
  });

  it('reports a corrupt file clearly and never overwrites it', async () => {
    const good = fileText();
    const garbage = `{"version": 1, "providers": {"openai": {"token": "${STORED_OPENAI}"`;
    writeFileSync(path, garbage);
    try {
      for (const [id, payload] of [
        ['auth::get_token', { provider: 'openai' }],
        ['auth::status', {}],
        ['auth::list_providers', {}],
        ['auth::set_token', { provider: 'kimi', token: 'sk-kimi-token-0007' }],
        ['auth::delete_token', { provider: 'openai' }],
      ] as const) {
        const error = await invoke(id, payload).catch((e: Error) => e);
        expect(error).toMatchObject({
          code: 'unavailable',
          reason: 'credentials_corrupt',
          message: expect.stringContaining(path),
        });
        expect((error as Error).message).not.toContain(STORED_OPENAI);
      }
      expect(fileText()).toBe(garbage);
    } finally {
      writeFileSync(path, good);
    }
    expect(await client.bus.call(auth.getToken, { provider: 'openai' })).toMatchObject({ source: 'stored' });
  });

  it('refuses clearly without the key or with a wrong one, and writes nothing', async () => {
    const sealed = fileText();
    await worker.shutdown();
    try {
      for (const [other, reason] of [
        [{ ANTHROPIC_API_KEY: ENV_ANTHROPIC }, 'credentials_key_required'],
        [{ IIH_CREDENTIALS_KEY: 'a wrong passphrase entirely' }, 'credentials_key_mismatch'],
        [{ IIH_CREDENTIALS_KEY: `hex:${'01'.repeat(32)}` }, 'credentials_key_mismatch'],
      ] as const) {
        worker = await startTestWorker(authCredentialsSpec(other), { url: engine.url, config });
        expect(await failureOf(client.bus.call(auth.getToken, { provider: 'openai' }))).toBe(`unavailable/${reason}`);
        expect(await failureOf(client.bus.call(auth.setToken, { provider: 'kimi', token: 'sk-kimi-token-0008' }))).toBe(
          `unavailable/${reason}`,
        );
        expect(fileText()).toBe(sealed);
        await worker.shutdown();
      }
      await expect(
        startTestWorker(authCredentialsSpec({ IIH_CREDENTIALS_KEY: 'short' }), { url: engine.url, config }),
      ).rejects.toMatchObject({ name: 'ConfigError' });
    } finally {
      worker = await startTestWorker(authCredentialsSpec(env), { url: engine.url, config });
    }
    expect(await client.bus.call(auth.getToken, { provider: 'openai' })).toEqual({
      provider: 'openai',
      token: STORED_OPENAI,
      source: 'stored',
    });
  });

  it('reads a version 1 file through the worker and rewrites it as version 2 at the next write', async () => {
    const current = fileText();
    await worker.shutdown();
    const v1 = { version: 1, providers: { openai: { token: STORED_OPENAI, updated_at: '2025-01-01T00:00:00.000Z' } } };
    writeFileSync(path, JSON.stringify(v1));
    worker = await startTestWorker(authCredentialsSpec(env), { url: engine.url, config });
    try {
      expect(await client.bus.call(auth.getToken, { provider: 'openai' })).toEqual({
        provider: 'openai',
        token: STORED_OPENAI,
        source: 'stored',
      });
      expect(JSON.parse(fileText())).toEqual(v1); // reading never rewrites
      await client.bus.call(auth.setToken, { provider: 'kimi', token: 'sk-kimi-after-migration-01' });
      const rewritten = JSON.parse(fileText());
      expect(rewritten).toMatchObject({ v: 2, cipher: { alg: 'aes-256-gcm' } });
      expect(rewritten).not.toHaveProperty('version');
      expect((await client.bus.call(auth.status, { provider: 'openai' })).providers[0]).toMatchObject({
        source: 'stored',
        updated_at: '2025-01-01T00:00:00.000Z',
      });
    } finally {
      writeFileSync(path, current);
    }
  });

  it('refuses a file of a newer version with a clear error, through every function, and never overwrites it', async () => {
    const current = fileText();
    const future = JSON.stringify({ v: 3, vault: { shape: 'from a newer worker', token: STORED_OPENAI } });
    writeFileSync(path, future);
    try {
      for (const [id, payload] of [
        [auth.getToken.id, { provider: 'openai' }],
        [auth.status.id, {}],
        [auth.setToken.id, { provider: 'kimi', token: 'sk-kimi-token-0010' }],
        [auth.deleteToken.id, { provider: 'openai' }],
      ] as const) {
        const error = await invoke(id, payload).catch((e: Error) => e);
        expect(error).toMatchObject({
          code: 'unavailable',
          reason: 'unsupported_record_version',
          message: `credentials file at ${path} has version 3; this worker reads versions up to 2 (upgrade the worker)`,
        });
      }
      expect(fileText()).toBe(future);
    } finally {
      writeFileSync(path, current);
    }
  });
});
