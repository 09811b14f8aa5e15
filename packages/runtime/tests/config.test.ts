import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, loadWorkerConfig, parseWorkerFlags } from '../src/index.js';

const schema = z
  .object({
    list_limit: z.number().int().positive().default(50),
    store: z
      .object({ path: z.string().default('./data') })
      .strict()
      .default({ path: './data' }),
    enabled: z.boolean().default(true),
  })
  .strict();

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'iih-config-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

describe('worker config', () => {
  it('reads the worker section of the YAML file and applies defaults', () => {
    const file = yamlFile('session:\n  list_limit: 10\nother:\n  list_limit: "ignored"\n');
    expect(loadWorkerConfig({ worker: 'session', schema, file })).toEqual({
      list_limit: 10,
      store: { path: './data' },
      enabled: true,
    });
  });

  it('lets documented env variables override the file, with typed values', () => {
    const file = yamlFile('session:\n  list_limit: 10\n');
    const env = { IIH_SESSION_LIST_LIMIT: '25', IIH_SESSION_STORE: '/tmp/x', IIH_SESSION_ENABLED: 'false' };
    const envOverrides = {
      IIH_SESSION_LIST_LIMIT: 'list_limit',
      IIH_SESSION_STORE: 'store.path',
      IIH_SESSION_ENABLED: 'enabled',
    };
    expect(loadWorkerConfig({ worker: 'session', schema, file, env, envOverrides })).toEqual({
      list_limit: 25,
      store: { path: '/tmp/x' },
      enabled: false,
    });
  });

  it('names the offending key when validation fails', () => {
    const file = yamlFile('session:\n  list_limit: -1\n  store:\n    paht: typo\n');
    expect(() => loadWorkerConfig({ worker: 'session', schema, file })).toThrow(ConfigError);
    try {
      loadWorkerConfig({ worker: 'session', schema, file });
    } catch (error) {
      expect((error as Error).message).toContain('list_limit');
      expect((error as Error).message).toContain('paht');
      expect((error as Error).message).toContain(file);
    }
  });

  it('names a bad env override by its key', () => {
    expect(() =>
      loadWorkerConfig({ worker: 'session', schema, env: { LIMIT: 'lots' }, envOverrides: { LIMIT: 'list_limit' } }),
    ).toThrow(/list_limit/);
  });

  it('reports unreadable and malformed files clearly', () => {
    expect(() => loadWorkerConfig({ worker: 'session', schema, file: '/nonexistent/iih.yaml' })).toThrow(
      /cannot read config file .*ENOENT/,
    );
    expect(() => loadWorkerConfig({ worker: 'session', schema, file: yamlFile('session: [unclosed') })).toThrow(
      /not valid YAML/,
    );
    expect(() => loadWorkerConfig({ worker: 'session', schema, file: yamlFile('session: 3\n') })).toThrow(
      /section "session" must be a mapping/,
    );
  });
});

describe('worker flags', () => {
  it('parses the common flags in both spellings', () => {
    expect(parseWorkerFlags(['--url', 'ws://h:1', '--config=c.yaml', '--log-level', 'debug'])).toEqual({
      url: 'ws://h:1',
      config: 'c.yaml',
      logLevel: 'debug',
      help: false,
      version: false,
    });
    expect(parseWorkerFlags(['-h']).help).toBe(true);
  });

  it('rejects unknown flags, missing values and bad levels', () => {
    expect(() => parseWorkerFlags(['--nope'])).toThrow(/unknown option "--nope"/);
    expect(() => parseWorkerFlags(['--url'])).toThrow(/--url needs a value/);
    expect(() => parseWorkerFlags(['--log-level', 'loud'])).toThrow(/--log-level must be one of/);
  });
});
