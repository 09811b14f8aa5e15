import {
  fromInvocationError,
  HarnessError,
  maskSecretValues,
  REDACTED,
  redact,
  registerEnvSecrets,
  registerSecret,
  toWireError,
} from '../src/index.js';

const KEY = 'sk-ant-api03-secret-value-0001';
registerSecret(KEY);

describe('secret masking', () => {
  it('masks registered values in the error that goes on the wire', () => {
    const wire = toWireError(new HarnessError('provider_error', `401 from vendor: invalid x-api-key ${KEY}`));
    expect(wire.message).toBe(`provider_error: 401 from vendor: invalid x-api-key ${REDACTED}`);
  });

  it('masks registered values in errors that come back from the wire', () => {
    const error = Object.assign(new Error(`invocation_failed: internal: echo ${KEY}`), { code: 'invocation_failed' });
    expect(fromInvocationError(error, 'x::y').message).toBe(`echo ${REDACTED}`);
  });

  it('registers the values of environment variables named like secrets, and only those', () => {
    const env = {
      ANTHROPIC_API_KEY: 'sk-ant-from-env-000000001',
      OPENAI_API_KEY: 'sk-openai-from-env-00001',
      MOONSHOT_API_KEY: 'sk-moonshot-from-env-001',
      IIH_CREDENTIALS_KEY: 'hex:00112233445566778899',
      GITHUB_TOKEN: 'ghp_from_env_0000000001',
      SHORT_TOKEN: 'short',
      HOME: '/home/someone-long-enough',
      TOKENIZERS_PARALLELISM: 'false-but-long-enough',
    };
    expect(registerEnvSecrets(env).sort()).toEqual([
      'ANTHROPIC_API_KEY',
      'GITHUB_TOKEN',
      'IIH_CREDENTIALS_KEY',
      'MOONSHOT_API_KEY',
      'OPENAI_API_KEY',
      'SHORT_TOKEN',
    ]);
    const text = Object.values(env).join(' ');
    expect(redact(text)).toBe(
      `${Array(5).fill(REDACTED).join(' ')} short /home/someone-long-enough false-but-long-enough`,
    );
  });

  it('masks by value only when asked to, keeping key names', () => {
    expect(maskSecretValues({ token: 'not-a-registered-value', out: [`a ${KEY}`] })).toEqual({
      token: 'not-a-registered-value',
      out: [`a ${REDACTED}`],
    });
    expect(redact({ token: 'not-a-registered-value' })).toEqual({ token: REDACTED });
  });

  it('never passes a value deeper than it looks through unchecked', () => {
    let deep: unknown = KEY;
    for (let i = 0; i < 200; i++) deep = { next: deep };
    expect(JSON.stringify(redact(deep))).not.toContain(KEY);
    expect(JSON.stringify(maskSecretValues(deep))).not.toContain(KEY);
  });
});
