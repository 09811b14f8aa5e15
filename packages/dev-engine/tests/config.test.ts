/**
 * Config (the real engine's config.yaml format) and command-line flags.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, expandEnv, parseConfig, parseFlags, runCli } from '../src/index.js';
import { parseQueueModuleConfig } from '../src/queue/config.js';
import { quietSdk, RawClient, startTestEngine } from './helpers/conformance.js';

const FULL = `
workers:
  - name: iii-worker-manager
    config:
      port: \${TEST_WM_PORT:49134}
      host: 127.0.0.1
  - name: iii-state
    config:
      adapter:
        name: kv
        config: { store_method: file_based, file_path: ./data/state_store.db }
  - name: iii-stream
  - name: iii-http
    config: { port: 3111, host: 127.0.0.1, default_timeout: 30000, concurrency_request_limit: 1024, cors: { allowed_origins: ['*'] } }
  - name: iii-pubsub
    config: { adapter: { name: local } }
  - name: iii-cron
  - name: iii-queue
    config:
      queue_configs:
        turn-step: { type: fifo, message_group_field: session_id }
`;

describe('parseConfig', () => {
  test('reads every implemented worker with its settings; ${VAR:default} uses the default', () => {
    const config = parseConfig(FULL, {});
    expect(config.workerManager).toEqual({ name: 'iii-worker-manager', port: 49134, host: '127.0.0.1' });
    expect(config.state).toEqual({ triggers_enabled: undefined, max_value_bytes: undefined });
    expect(config.stream).toEqual({});
    expect(config.http).toMatchObject({
      port: 3111,
      default_timeout: 30000,
      concurrency_request_limit: 1024,
      cors: { allowed_origins: ['*'] },
    });
    expect(config.pubsub).toEqual({});
    expect(config.cron).toEqual({});
    expect(config.queue).toEqual({
      queue_configs: { 'turn-step': { type: 'fifo', message_group_field: 'session_id' } },
    });
    expect(config.warnings).toEqual([expect.stringContaining('adapter config ignored')]);
  });

  test("the real engine's redis and rabbitmq adapter entries (the queue entry is parsed by the queue module)", () => {
    const config = parseConfig(
      `
workers:
  - name: iii-state
    config: { adapter: { name: redis, config: { redis_url: \${REDIS_URL} } } }
  - name: iii-stream
    config: { adapter: { name: redis, config: { redis_url: \${REDIS_URL} } } }
  - name: iii-pubsub
    config: { adapter: { name: redis, config: { redis_url: \${REDIS_URL} } } }
  - name: iii-cron
    config: { adapter: { name: redis } }
  - name: iii-queue
    config:
      adapter: { name: rabbitmq, config: { amqp_url: \${RABBITMQ_URL}, prefetch_count: 10 } }
`,
      { REDIS_URL: 'redis://127.0.0.1:7000', RABBITMQ_URL: 'amqp://127.0.0.1:7001' },
    );
    const redis = { adapter: { name: 'redis', redis_url: 'redis://127.0.0.1:7000' } };
    expect(config.state).toMatchObject(redis);
    expect(config.stream).toEqual(redis);
    expect(config.pubsub).toEqual(redis);
    expect(config.cron).toEqual({ adapter: { name: 'redis', redis_url: 'redis://localhost:6379' } });
    expect(parseQueueModuleConfig(config.queue).adapter).toEqual({
      name: 'rabbitmq',
      amqp_url: 'amqp://127.0.0.1:7001',
    });
    expect(() => parseQueueModuleConfig({ adapter: { name: 'redis' } })).toThrow(/pub\/sub only.*rabbitmq/);
    expect(() => parseQueueModuleConfig({ adapter: { name: 'rabbitmq', config: { amqp_uri: 'x' } } })).toThrow(
      /adapter\.config\.amqp_uri: unknown key/,
    );
  });

  test('${VAR} takes the environment value; a missing one without default is a clear error', () => {
    expect(parseConfig(FULL, { TEST_WM_PORT: '5000' }).workerManager.port).toBe(5000);
    expect(expandEnv('a ${X:} b ${Y:fallback}', { X: undefined })).toBe('a  b fallback');
    expect(() =>
      parseConfig('workers:\n  - name: iii-worker-manager\n    config: { port: ${NOT_SET_ANYWHERE} }', {}),
    ).toThrow(/NOT_SET_ANYWHERE is not set/);
  });

  test('iii-observability: the implemented keys are read, the others accepted with a warning', () => {
    const config = parseConfig(
      `workers:
  - name: iii-observability
    config:
      enabled: true
      exporter: memory
      memory_max_spans: 500
      trace_storage: { retention_seconds: 60 }
      logs_enabled: true
      logs_max_count: 50
      logs_retention_seconds: 120
      logs_console_output: false
      service_name: my-engine
      sampling_ratio: 0.5
`,
      {},
    );
    expect(config.observability).toEqual({
      enabled: true,
      exporter: 'memory',
      memory_max_spans: 500,
      span_retention_seconds: 60,
      logs_enabled: true,
      logs_max_count: 50,
      logs_retention_seconds: 120,
      logs_console_output: false,
    });
    expect(config.warnings).toEqual([
      expect.stringContaining('`service_name` accepted and ignored'),
      expect.stringContaining('`sampling_ratio` accepted and ignored'),
    ]);
  });

  test('several iii-worker-manager entries: the first is the main port, the rest extra listeners with rbac', () => {
    const config = parseConfig(
      `workers:
  - name: iii-worker-manager
    config: { port: 49134 }
  - name: iii-worker-manager#rbac
    config:
      port: 49135
      middleware_function_id: mw::fn
      rbac:
        auth_function_id: auth::fn
        expose_functions: ['match("api::*")', { metadata: { public: true } }]
  - name: iii-http-functions
    config: { security: { url_allowlist: [localhost], require_https: false } }
`,
      {},
    );
    expect(config.workerManager).toMatchObject({ name: 'iii-worker-manager', port: 49134 });
    expect(config.extraWorkerManagers).toEqual([
      {
        name: 'iii-worker-manager#rbac',
        port: 49135,
        middleware_function_id: 'mw::fn',
        rbac: {
          auth_function_id: 'auth::fn',
          expose_functions: [
            { kind: 'id', pattern: 'api::*' },
            { kind: 'metadata', expected: { public: true } },
          ],
        },
      },
    ]);
    expect(config.httpFunctions).toEqual({
      security: { url_allowlist: ['localhost'], block_private_ips: true, require_https: false },
    });
  });

  test('the legacy `modules:` key works; an empty file enables only the mandatory workers', () => {
    expect(parseConfig('modules:\n  - name: iii-state\n', {}).state).toEqual(expect.any(Object));
    const empty = parseConfig('', {});
    expect([empty.state, empty.http, empty.queue]).toEqual([undefined, undefined, undefined]);
  });

  test.each([
    ['an unknown worker', 'workers:\n  - name: my-custom-worker\n', /my-custom-worker/],
    ['a standalone registry name', 'workers:\n  - name: http\n', /"http" is the standalone registry worker.*iii-http/],
    [
      'an unsupported adapter',
      'workers:\n  - name: iii-state\n    config: { adapter: { name: bridge } }\n',
      /adapter "bridge" is not supported/,
    ],
    [
      'a redis URL that is not one',
      'workers:\n  - name: iii-cron\n    config: { adapter: { name: redis, config: { redis_url: "http://x" } } }\n',
      /redis_url must be a redis:\/\/ or rediss:\/\/ URL/,
    ],
    [
      'an unknown worker-manager key',
      'workers:\n  - name: iii-worker-manager\n    config: { prot: 1 }\n',
      /unknown key `prot`/,
    ],
    [
      'an unknown rbac key (a typo must not disarm a hook)',
      'workers:\n  - name: iii-worker-manager\n    config: { rbac: { auth_function: a::b } }\n',
      /rbac: unknown key `auth_function`/,
    ],
    [
      'a bad expose_functions entry',
      'workers:\n  - name: iii-worker-manager\n    config: { rbac: { expose_functions: ["api::*"] } }\n',
      /expose_functions\[0\]: expected match/,
    ],
    ['an OCI image', 'workers:\n  - name: x\n    image: ghcr.io/a/b:1\n', /`image`/],
    ['an unknown top-level key', 'workers: []\nextra: 1\n', /unknown top-level key `extra`/],
    ['a duplicate entry', 'workers:\n  - name: queue\n  - name: iii-queue\n', /listed twice/],
    ['a bad port', 'workers:\n  - name: iii-http\n    config: { port: 70000 }\n', /`port` must be an integer/],
    ['invalid YAML', 'workers: [', /invalid YAML/],
    [
      'an unknown iii-observability key',
      'workers:\n  - name: iii-observability\n    config: { memory_max_span: 5 }\n',
      /unknown key `memory_max_span`/,
    ],
    [
      'a bad exporter',
      'workers:\n  - name: iii-observability\n    config: { exporter: jaeger }\n',
      /`exporter` must be memory, otlp or both/,
    ],
  ])('rejects %s with a message naming it', (_label, text, message) => {
    expect(() => parseConfig(text, {})).toThrow(ConfigError);
    expect(() => parseConfig(text, {})).toThrow(message);
  });
});

describe('an engine started from a config file', () => {
  let dir: string;
  beforeAll(() => {
    quietSdk();
    dir = mkdtempSync(join(tmpdir(), 'iii-dev-engine-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('runs only the listed builtins, on the configured port', async () => {
    const path = join(dir, 'config.yaml');
    writeFileSync(
      path,
      'workers:\n  - name: iii-worker-manager\n    config: { port: "${DEV_ENGINE_TEST_PORT:0}" }\n  - name: iii-pubsub\n',
    );
    const engine = await startTestEngine({ configPath: path, port: undefined, httpPort: undefined });
    try {
      expect(engine.port).toBeGreaterThan(0);
      expect(engine.httpUrl).toBeUndefined();
      const raw = await RawClient.connect(engine.url);
      expect((await raw.invoke('state::get', { scope: 's', key: 'k' })).error).toMatchObject({
        code: 'function_not_found',
      });
      expect((await raw.invoke('publish', { topic: 't', data: 1 })).error).toBeUndefined();
      await raw.close();
    } finally {
      await engine.close();
    }
  });
});

describe('command line', () => {
  test('parses every flag, both --flag value and --flag=value', () => {
    expect(
      parseFlags([
        '--config',
        'c.yaml',
        '--port=0',
        '--host',
        '0.0.0.0',
        '--http-port',
        '8080',
        '--data-dir',
        '/tmp/x',
        '--memory',
        '--log-level=debug',
        '--allowed-origins',
        'loopback, https://console.example',
        '--max-connections=40',
        '--idle-timeout-ms',
        '0',
        '--max-outbound-bytes',
        '1048576',
      ]),
    ).toEqual({
      config: 'c.yaml',
      port: 0,
      host: '0.0.0.0',
      httpPort: 8080,
      dataDir: '/tmp/x',
      memory: true,
      logLevel: 'debug',
      security: {
        allowedOrigins: ['loopback', 'https://console.example'],
        maxConnections: 40,
        idleTimeoutMs: 0,
        maxOutboundBytes: 1048576,
      },
      help: false,
      version: false,
    });
  });

  test.each([
    [['--bogus'], /unknown option --bogus/],
    [['--port', 'abc'], /--port must be a port number/],
    [['--port'], /--port needs a value/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--memory=yes'], /takes no value/],
    [['--max-connections', '0'], /--max-connections must be an integer >= 1/],
  ])('%j exits with code 2 and a clear message', async (argv, message) => {
    const err: string[] = [];
    await expect(runCli(argv, { version: '9.9.9', out: () => undefined, err: (t) => void err.push(t) })).resolves.toBe(
      2,
    );
    expect(err.join('')).toMatch(message);
  });

  test('a bad config file exits with code 2 naming the problem', async () => {
    const err: string[] = [];
    await expect(
      runCli(['--config', '/definitely/not/here.yaml'], {
        version: '1',
        out: () => undefined,
        err: (t) => void err.push(t),
      }),
    ).resolves.toBe(2);
    expect(err.join('')).toMatch(/cannot read config file/);
  });

  test('a bad iii-queue config exits with code 2 naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iii-queue-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      'workers:\n  - name: iii-queue\n    config:\n      queue_configs:\n        jobs: { type: fifo }\n',
    );
    const err: string[] = [];
    try {
      await expect(
        runCli(['--config', file, '--memory', '--port', '0'], {
          version: '1',
          out: () => undefined,
          err: (t) => void err.push(t),
        }),
      ).resolves.toBe(2);
      expect(err.join('')).toMatch(/jobs\.message_group_field is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--help and --version', async () => {
    const out: string[] = [];
    await expect(
      runCli(['--help'], { version: '1.2.3', out: (t) => void out.push(t), err: () => undefined }),
    ).resolves.toBe(0);
    expect(out.join('')).toMatch(/--data-dir/);
    out.length = 0;
    await expect(
      runCli(['--version'], { version: '1.2.3', out: (t) => void out.push(t), err: () => undefined }),
    ).resolves.toBe(0);
    expect(out.join('')).toBe('1.2.3\n');
  });
});
