import { type Contract, contract } from '@iii-harness/types';
import { z } from 'zod';
import {
  type Bus,
  createHandler,
  createLogger,
  fromInvocationError,
  type Handler,
  type HandlerContext,
  HarnessError,
  jsonSchemasOf,
  toWireError,
} from '../src/index.js';
import { captureLogs } from './helpers/capture.js';

const echoContract = contract({
  id: 'demo::echo',
  description: 'Echo a name back',
  input: z.object({ name: z.string().min(1), times: z.number().int().positive().default(1) }).strict(),
  output: z.object({ said: z.string() }),
});
type Echo = typeof echoContract;
const echoHandler: Handler<Echo> = async ({ name, times }) => ({ said: name.repeat(times) });
const echo = {
  contract: echoContract as Contract,
  handler: echoHandler as (input: any, ctx: HandlerContext) => unknown,
};

function wrap(def: { contract: Contract; handler: (input: any, ctx: HandlerContext) => unknown }) {
  const logs = captureLogs();
  const logger = createLogger({ worker: 'demo', level: 'debug', destination: logs.stream });
  return { handler: createHandler(def.contract, def.handler as Handler<Contract>, { bus: {} as Bus, logger }), logs };
}

/** What a caller sees: iii-sdk sends a thrown error as `invocation_failed` with its message. */
async function callerError(promise: Promise<unknown>, functionId = 'demo::x'): Promise<HarnessError> {
  try {
    await promise;
  } catch (thrown) {
    const wire = thrown as Error;
    expect(wire.stack).toBeUndefined();
    const asSeenByCaller = Object.assign(new Error(`invocation_failed: ${wire.message}`), {
      code: 'invocation_failed',
    });
    return fromInvocationError(asSeenByCaller, functionId);
  }
  throw new Error('expected the handler to fail');
}

describe('declared function handler', () => {
  it('validates, applies defaults, and returns the output', async () => {
    const { handler } = wrap(echo);
    await expect(handler({ name: 'ab', times: 2 })).resolves.toEqual({ said: 'abab' });
    await expect(handler({ name: 'a' })).resolves.toEqual({ said: 'a' });
  });

  it('rejects invalid input with invalid_payload and never calls the handler', async () => {
    const spy = jest.fn(async () => ({ said: 'x' }));
    const { handler } = wrap({ ...echo, handler: spy });
    for (const bad of [{ name: '' }, { name: 'a', times: 0 }, { name: 'a', extra: true }, 'a string', null]) {
      const error = await callerError(handler(bad));
      expect(error.code).toBe('invalid_payload');
    }
    const error = await callerError(handler({ name: 3 }));
    expect(error.message).toContain('name');
    expect(spy).not.toHaveBeenCalled();
  });

  it('strips the engine-injected caller id before validation and exposes it', async () => {
    let seen: string | undefined;
    const { handler } = wrap({
      ...echo,
      handler: async (input: { name: string }, ctx: HandlerContext) => {
        seen = ctx.caller_worker_id;
        return { said: input.name };
      },
    });
    await expect(handler({ name: 'a', _caller_worker_id: 'w-1' })).resolves.toEqual({ said: 'a' });
    expect(seen).toBe('w-1');
  });

  it('carries a HarnessError code and reason to the caller', async () => {
    const { handler } = wrap({
      ...echo,
      handler: async () => {
        throw new HarnessError('conflict', 'a turn is running', { reason: 'session_busy' });
      },
    });
    const error = await callerError(handler({ name: 'a' }));
    expect(error).toMatchObject({
      code: 'conflict',
      reason: 'session_busy',
      message: 'a turn is running',
      retryable: false,
    });
  });

  it('maps unknown errors to internal without leaking their message or stack', async () => {
    const { handler, logs } = wrap({
      ...echo,
      handler: async () => {
        throw new Error('db password hunter2 rejected');
      },
    });
    const error = await callerError(handler({ name: 'a' }));
    expect(error.code).toBe('internal');
    expect(error.message).toMatch(/^internal error \(ref [a-z0-9]+\)$/);
    expect(error.message).not.toContain('hunter2');
    const ref = /ref ([a-z0-9]+)/.exec(error.message)![1];
    expect(logs.lines().find((line) => line.ref === ref)).toMatchObject({ level: 'error', function_id: 'demo::echo' });
  });

  it('maps a thrown ZodError to invalid_payload', async () => {
    const { handler } = wrap({ ...echo, handler: async () => z.object({ a: z.string() }).parse({ a: 1 }) });
    expect((await callerError(handler({ name: 'a' }))).code).toBe('invalid_payload');
  });

  it('treats a result that breaks the output schema as internal', async () => {
    const { handler } = wrap({ ...echo, handler: async () => ({ wrong: true }) as never });
    const error = await callerError(handler({ name: 'a' }));
    expect(error.code).toBe('internal');
    expect(error.message).toBe('demo::echo produced an invalid result');
  });

  it('publishes input and output JSON Schemas', () => {
    const { request_format, response_format } = jsonSchemasOf(echo.contract);
    expect(request_format).toMatchObject({
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
    });
    expect(response_format).toMatchObject({ type: 'object', required: ['said'] });
  });
});

describe('fromInvocationError', () => {
  const engineError = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });

  it('maps engine codes onto stable codes', () => {
    expect(fromInvocationError(engineError('function_not_found', 'Function x not found'), 'x')).toMatchObject({
      code: 'not_found',
      reason: 'function_not_found',
    });
    expect(fromInvocationError(engineError('TIMEOUT', 'invocation timed out after 5ms'), 'x')).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    expect(fromInvocationError(engineError('invocation_stopped', 'Invocation stopped'), 'x')).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    expect(fromInvocationError(engineError('FORBIDDEN', 'no'), 'x').code).toBe('denied');
  });

  it('reads the retryable flag back after a reason, whichever way it points', () => {
    for (const retryable of [true, false])
      for (const code of ['unavailable', 'provider_error'] as const) {
        const sent = new HarnessError(code, 'm: with a colon', { reason: 'some_reason.v2', retryable });
        const wire = toWireError(sent);
        const back = fromInvocationError(engineError('invocation_failed', wire.message), 'x');
        expect(back).toMatchObject({ code, reason: 'some_reason.v2', retryable, message: 'm: with a colon' });
      }
  });

  it('treats a foreign worker failure as internal, keeping its message', () => {
    const error = fromInvocationError(engineError('invocation_failed', 'plain failure'), 'other::fn');
    expect(error).toMatchObject({ code: 'internal', message: 'other::fn failed: plain failure' });
  });
});
