import { loadWorkerConfig } from '@iii-harness/runtime';
import { configSchema, envOverrides } from '../src/config.js';

describe('config', () => {
  it('has safe defaults', () => {
    expect(configSchema.parse({})).toMatchObject({
      timeout_ms: { default: 25_000, max: 120_000 },
      max_bytes: { default: 2 * 1024 * 1024, max: 10 * 1024 * 1024 },
      max_redirects: { default: 5, max: 10 },
      first_byte_timeout_ms: 15_000,
      max_header_bytes: 16 * 1024,
      max_request_bytes: 1024 * 1024,
      allow_private: [],
    });
  });

  it('fills the half of a limit that is not given', () => {
    expect(configSchema.parse({ timeout_ms: { max: 60_000 } }).timeout_ms).toEqual({ default: 25_000, max: 60_000 });
  });

  it.each([
    [{ timeout_ms: { default: 200_000 } }, /default must not exceed max/],
    [{ max_redirects: { default: -1 } }, /max_redirects/],
    [{ allow_private: ['10.0.0.0/33'] }, /expected a host name/],
    [{ allow_private: ['https://wiki.corp.example'] }, /expected a host name/],
    [{ surprise: 1 }, /surprise/],
  ])('rejects %j', (config, message) => {
    const result = configSchema.safeParse(config);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(message);
  });

  it('reads the documented environment overrides', () => {
    const config = loadWorkerConfig({
      worker: 'web',
      schema: configSchema,
      envOverrides,
      env: { IIH_WEB_TIMEOUT_MS: '5000', IIH_WEB_ALLOW_PRIVATE: '["wiki.corp.example","10.20.0.0/16"]' },
    });
    expect(config.timeout_ms).toEqual({ default: 5000, max: 120_000 });
    expect(config.allow_private).toEqual(['wiki.corp.example', '10.20.0.0/16']);
  });
});
