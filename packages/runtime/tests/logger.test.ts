import { createLogger, REDACTED, redact, registerSecret } from '../src/index.js';
import { lazyChild } from '../src/logger.js';
import { captureLogs } from './helpers/capture.js';

describe('logger', () => {
  it('writes JSON lines carrying the worker name', () => {
    const logs = captureLogs();
    createLogger({ worker: 'session', destination: logs.stream }).info({ session_id: 's1' }, 'appended');
    expect(logs.lines()[0]).toMatchObject({ level: 'info', worker: 'session', session_id: 's1', msg: 'appended' });
  });

  it('redacts secret-named fields at any depth', () => {
    const logs = captureLogs();
    const logger = createLogger({ worker: 'w', destination: logs.stream });
    logger.info(
      {
        api_key: 'sk-ant-123',
        request: { headers: { authorization: 'Bearer abc', 'x-api-key': 'k-1' } },
        list: [{ password: 'p' }],
        ok: 'visible',
      },
      'call',
    );
    const text = logs.text();
    for (const secret of ['sk-ant-123', 'Bearer abc', 'k-1', '"p"']) expect(text).not.toContain(secret);
    expect(logs.lines()[0]).toMatchObject({
      api_key: REDACTED,
      request: { headers: { authorization: REDACTED, 'x-api-key': REDACTED } },
      list: [{ password: REDACTED }],
      ok: 'visible',
    });
  });

  it('masks registered secret values in messages, fields and errors', () => {
    const logs = captureLogs();
    const logger = createLogger({ worker: 'w', destination: logs.stream });
    registerSecret('sk-live-0123456789abcdef');
    logger.warn(
      { url: 'https://x/?key=sk-live-0123456789abcdef', err: new Error('bad key sk-live-0123456789abcdef') },
      'retrying with sk-live-0123456789abcdef',
    );
    expect(logs.text()).not.toContain('sk-live-0123456789abcdef');
    expect(logs.lines()[0]!.msg).toBe(`retrying with ${REDACTED}`);
  });

  it('leaves ordinary values alone and does not mutate its input', () => {
    const input = { token_count: 3, nested: { token: 'x' } };
    expect(redact(input)).toEqual({ token_count: 3, nested: { token: REDACTED } });
    expect(input.nested.token).toBe('x');
  });
});

describe('lazyChild', () => {
  it('builds no child for lines its level drops, and one child, with the bindings, for lines it writes', () => {
    const logs = captureLogs();
    const parent = createLogger({ worker: 'w', level: 'info', destination: logs.stream });
    const child = jest.spyOn(parent, 'child');
    const logger = lazyChild(parent, () => ({ function_id: 'demo::f', session_id: 's1' }));
    logger.debug({ detail: 1 }, 'dropped');
    expect(child).not.toHaveBeenCalled();
    logger.info('kept');
    logger.warn({ n: 2 }, 'kept too');
    expect(child).toHaveBeenCalledTimes(1);
    expect(logs.lines()).toEqual([
      expect.objectContaining({ level: 'info', worker: 'w', function_id: 'demo::f', session_id: 's1', msg: 'kept' }),
      expect.objectContaining({ level: 'warn', function_id: 'demo::f', n: 2, msg: 'kept too' }),
    ]);
  });

  it('hands everything else to the real child (its level is its own, not the parent)', () => {
    const logs = captureLogs();
    const parent = createLogger({ worker: 'w', level: 'info', destination: logs.stream });
    const logger = lazyChild(parent, () => ({ function_id: 'demo::f' }));
    logger.level = 'debug';
    logger.debug('now written');
    expect(parent.level).toBe('info');
    expect(logs.lines()).toEqual([expect.objectContaining({ level: 'debug', function_id: 'demo::f' })]);
    expect(logger.child({ step: 1 }).bindings()).toMatchObject({ function_id: 'demo::f', step: 1 });
  });
});
