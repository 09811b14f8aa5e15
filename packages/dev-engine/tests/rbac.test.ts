/**
 * RBAC worker ports (iii v0.22.1's second `iii-worker-manager` with `rbac` and a middleware),
 * driven through iii-sdk@0.22.1 clients the way the SDK's own `rbac-workers` integration test
 * does: auth function consulted with the upgrade's headers, exposed functions allowed, private
 * and forbidden ones refused, registration hooks consulted, middleware in front of every call.
 */
import type { IIIClient } from 'iii-sdk';
import WebSocket from 'ws';
import { parseConfig, type RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';

jest.setTimeout(30_000);

const CONFIG = `
workers:
  - name: iii-worker-manager
    config: { port: 0 }
  - name: iii-worker-manager#rbac
    config:
      port: 0
      middleware_function_id: test::rbac-worker::middleware
      rbac:
        auth_function_id: test::rbac-worker::auth
        on_function_registration_function_id: test::rbac-worker::on-function-reg
        on_trigger_registration_function_id: test::rbac-worker::on-trigger-reg
        on_trigger_type_registration_function_id: test::rbac-worker::on-trigger-type-reg
        expose_functions:
          - match("test::ew::public::*")
          - match("engine::functions::list")
          - metadata:
              ew_public: true
  - name: iii-state
`;

let engine: RunningEngine;
let main: IIIClient;
let rbacUrl: string;
let authCalls: any[] = [];
let functionRegCalls: any[] = [];
let triggerTypeRegCalls: any[] = [];
let triggerRegCalls: any[] = [];
let middlewareCalls: any[] = [];

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine({ config: parseConfig(CONFIG, {}) });
  rbacUrl = engine.listeners.find((l) => l.name === 'iii-worker-manager#rbac')!.url;
  main = connectWorker(engine.url, 'main');

  main.registerFunction('test::rbac-worker::auth', async (input: any) => {
    authCalls.push(input);
    const token = input.headers?.['x-test-token'];
    if (!token)
      return { allowed_functions: [], forbidden_functions: [], context: { role: 'anonymous', user_id: 'anonymous' } };
    if (token === 'valid-token')
      return {
        allowed_functions: ['test::ew::valid-token-echo'],
        forbidden_functions: [],
        allow_trigger_type_registration: true,
        context: { role: 'admin', user_id: 'user-1' },
      };
    if (token === 'restricted-token')
      return { allowed_functions: [], forbidden_functions: ['test::ew::public::echo'], context: { user_id: 'user-2' } };
    if (token === 'tenant-token')
      return { function_registration_prefix: 'tenant-a', context: { user_id: 'tenant-user' } };
    throw new Error('invalid token');
  });
  main.registerFunction('test::rbac-worker::middleware', async (input: any) => {
    middlewareCalls.push(input);
    const enriched = { ...input.payload, _intercepted: true, _caller: input.context.user_id };
    return main.trigger({ function_id: input.function_id, payload: enriched });
  });
  main.registerFunction('test::rbac-worker::on-function-reg', async (input: any) => {
    functionRegCalls.push(input);
    if (input.function_id.startsWith('denied::')) throw new Error('denied');
    return {};
  });
  main.registerFunction('test::rbac-worker::on-trigger-type-reg', async (input: any) => {
    triggerTypeRegCalls.push(input);
    return input.trigger_type_id.startsWith('denied-tt::') ? false : {};
  });
  main.registerFunction('test::rbac-worker::on-trigger-reg', async (input: any) => {
    triggerRegCalls.push(input);
    return input.function_id.startsWith('denied-trig::') ? null : {};
  });
  main.registerTriggerType(
    { id: 'test-rbac-trigger', description: 'Trigger type for RBAC tests' },
    { registerTrigger: async () => undefined, unregisterTrigger: async () => undefined },
  );
  main.registerFunction('test::ew::public::echo', async (data: unknown) => ({ echoed: data }));
  main.registerFunction('test::ew::valid-token-echo', async (data: unknown) => ({ echoed: data, valid_token: true }));
  main.registerFunction('test::ew::meta-public', async (data: unknown) => ({ meta_echoed: data }), {
    metadata: { ew_public: true },
  });
  main.registerFunction('test::ew::private', async () => ({ private: true }));
  await waitForFunction(main, 'test::ew::private');
});

beforeEach(() => {
  authCalls = [];
  functionRegCalls = [];
  triggerTypeRegCalls = [];
  triggerRegCalls = [];
  middlewareCalls = [];
});

afterAll(async () => {
  await main.shutdown();
  await engine.close();
});

const rbacClient = (token?: string) =>
  connectWorker(rbacUrl, 'rbac-client', { headers: token === undefined ? {} : { 'x-test-token': token } });

async function withClient(token: string | undefined, run: (c: IIIClient) => Promise<void>) {
  const c = rbacClient(token);
  try {
    await run(c);
  } finally {
    await c.shutdown();
  }
}

test('a valid token: the auth function sees the upgrade headers; allowed_functions are callable through the middleware', async () => {
  await withClient('valid-token', async (c) => {
    const result = (await c.trigger({ function_id: 'test::ew::valid-token-echo', payload: { msg: 'hello' } })) as any;
    expect(result.valid_token).toBe(true);
    expect(result.echoed).toMatchObject({ msg: 'hello', _intercepted: true, _caller: 'user-1' });
    expect(authCalls).toHaveLength(1);
    expect(authCalls[0]).toMatchObject({
      headers: { 'x-test-token': 'valid-token' },
      query_params: {},
      ip_address: expect.any(String),
    });
    expect(middlewareCalls[0]).toMatchObject({
      function_id: 'test::ew::valid-token-echo',
      payload: { msg: 'hello' },
      context: { role: 'admin', user_id: 'user-1' },
    });
  });
});

test('exposed by match("…*") and by metadata: allowed without a token', async () => {
  await withClient(undefined, async (c) => {
    await expect(c.trigger({ function_id: 'test::ew::public::echo', payload: { a: 1 } })).resolves.toMatchObject({
      echoed: { a: 1, _caller: 'anonymous' },
    });
    await expect(c.trigger({ function_id: 'test::ew::meta-public', payload: { b: 2 } })).resolves.toMatchObject({
      meta_echoed: { b: 2 },
    });
  });
});

test('a function not exposed is refused with FORBIDDEN, and never reaches the middleware', async () => {
  await withClient('valid-token', async (c) => {
    await expect(c.trigger({ function_id: 'test::ew::private', payload: {} })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining("function 'test::ew::private' not allowed"),
    });
    await expect(c.trigger({ function_id: 'state::get', payload: { scope: 's', key: 'k' } })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(middlewareCalls).toHaveLength(0);
  });
});

test('forbidden_functions beat expose_functions', async () => {
  await withClient('restricted-token', async (c) => {
    await expect(c.trigger({ function_id: 'test::ew::public::echo', payload: {} })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});

test('an auth function that fails refuses the connection with an error frame', async () => {
  const ws = new WebSocket(rbacUrl, { headers: { 'x-test-token': 'bogus' } });
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise<void>((resolve) => ws.once('close', () => resolve()));
  expect(frames).toEqual([
    { type: 'error', error: { code: 'AUTH_ERROR', message: expect.stringContaining('invalid token') } },
  ]);
});

test('engine::functions::list on the RBAC port shows only what the session may call', async () => {
  await withClient(undefined, async (c) => {
    const { functions } = (await c.trigger({ function_id: 'engine::functions::list', payload: {} })) as any;
    expect(functions.map((f: { function_id: string }) => f.function_id).sort()).toEqual([
      'test::ew::meta-public',
      'test::ew::public::echo',
    ]);
  });
  const all = (await main.trigger({ function_id: 'engine::functions::list', payload: {} })) as any;
  expect(all.functions.length).toBeGreaterThan(2);
});

test('on_trigger_type_registration: consulted with the session context; a non-object answer denies', async () => {
  await withClient('valid-token', async (c) => {
    c.registerTriggerType(
      { id: 'denied-tt::test', description: 'Should be denied' },
      { registerTrigger: async () => undefined, unregisterTrigger: async () => undefined },
    );
    c.registerTriggerType(
      { id: 'allowed-tt::test', description: 'Allowed' },
      { registerTrigger: async () => undefined, unregisterTrigger: async () => undefined },
    );
    await waitFor(() => triggerTypeRegCalls.length === 2);
    expect(triggerTypeRegCalls[0]).toEqual({
      trigger_type_id: 'denied-tt::test',
      description: 'Should be denied',
      context: { role: 'admin', user_id: 'user-1' },
    });
    const ids = await waitFor(async () => {
      const { triggers } = (await main.trigger({ function_id: 'engine::triggers::list', payload: {} })) as any;
      const found = triggers.map((t: { id: string }) => t.id);
      return found.includes('allowed-tt::test') ? found : undefined;
    });
    expect(ids).not.toContain('denied-tt::test');
  });
});

test('an anonymous session may not register trigger types (the auth result default)', async () => {
  await withClient(undefined, async (c) => {
    c.registerTriggerType(
      { id: 'anon-tt::test', description: 'no' },
      { registerTrigger: async () => undefined, unregisterTrigger: async () => undefined },
    );
    await sleep(300);
    expect(triggerTypeRegCalls).toHaveLength(0);
    const { triggers } = (await main.trigger({ function_id: 'engine::triggers::list', payload: {} })) as any;
    expect(triggers.map((t: { id: string }) => t.id)).not.toContain('anon-tt::test');
  });
});

test('on_trigger_registration: consulted; a denied trigger never reaches the provider', async () => {
  await withClient('valid-token', async (c) => {
    c.registerTrigger({ type: 'test-rbac-trigger', function_id: 'denied-trig::my-fn', config: { key: 'value' } });
    await waitFor(() => triggerRegCalls.length === 1);
    expect(triggerRegCalls[0]).toMatchObject({
      trigger_type: 'test-rbac-trigger',
      function_id: 'denied-trig::my-fn',
      config: { key: 'value' },
      context: { user_id: 'user-1' },
      trigger_id: expect.any(String),
    });
    await sleep(200);
    const { registered_triggers } = (await main.trigger({
      function_id: 'engine::registered-triggers::list',
      payload: { trigger_type: 'test-rbac-trigger' },
    })) as any;
    expect(registered_triggers).toEqual([]);
  });
});

test('on_function_registration: a hook error denies; an object answer allows', async () => {
  await withClient('valid-token', async (c) => {
    c.registerFunction('denied::blocked-fn', async () => ({ should: 'not reach' }));
    c.registerFunction('rbac-client::ok-fn', async () => 'reached');
    await waitFor(() => functionRegCalls.length === 2);
    expect(functionRegCalls[0]).toMatchObject({ function_id: 'denied::blocked-fn', context: { user_id: 'user-1' } });
    await waitForFunction(main, 'rbac-client::ok-fn');
    await expect(main.trigger({ function_id: 'rbac-client::ok-fn', payload: {} })).resolves.toBe('reached');
    await expect(main.trigger({ function_id: 'denied::blocked-fn', payload: {} })).rejects.toMatchObject({
      code: 'function_not_found',
    });
  });
});

test('function_registration_prefix stores functions under the prefix; the worker keeps its own ids', async () => {
  await withClient('tenant-token', async (c) => {
    c.registerFunction('jobs::run', async (data: any) => ({ ran: data.n }));
    await waitForFunction(main, 'tenant-a::jobs::run');
    await expect(main.trigger({ function_id: 'tenant-a::jobs::run', payload: { n: 7 } })).resolves.toEqual({ ran: 7 });
    expect(functionRegCalls[0]).toMatchObject({ function_id: 'tenant-a::jobs::run' });
  });
  // Gone with the session.
  await waitFor(async () =>
    main.trigger({ function_id: 'tenant-a::jobs::run', payload: {} }).then(
      () => false,
      (e) => e.code === 'function_not_found',
    ),
  );
});

test('the main port stays unchecked', async () => {
  await expect(main.trigger({ function_id: 'test::ew::private', payload: {} })).resolves.toEqual({ private: true });
});
