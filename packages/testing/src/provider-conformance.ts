import assert from 'node:assert/strict';
import { contracts } from '@iii-harness/types';
import { eventually } from './eventually.js';
import type { Scenario } from './fake-vendors/scenario.js';
import { type ConformanceCase, failureCases, ofType } from './provider-conformance-failures.js';
import { type ConformanceWire, chatCompletionsWire } from './provider-conformance-wire.js';
import type { ProviderFixture } from './provider-fixture.js';

/**
 * The acceptance items every provider worker must meet, written once. A provider's test file
 * starts a fixture and registers each case with its test runner:
 * `for (const c of providerConformanceCases(() => fixture, spec)) it(c.name, c.run)`.
 * Assertions use node:assert, so this module needs no test framework.
 */
export interface ConformanceSpec {
  /** Env var a cloud provider names when no key is configured; absent for keyless local servers. */
  credentialEnvVar?: string;
  /** The vendor streams reasoning (`thinking_delta`). */
  thinking: boolean;
  /** The vendor reports reasoning tokens in usage. */
  reasoningTokens: boolean;
  /** Ids `refresh_models` must put in the catalog. */
  expectedModelIds: string[];
  /** Vendor stop reasons beyond the standard ones: scenario stop → our stop reason (+ raw). */
  extraStops?: Array<{ stop: Scenario['stop']; expected: string; raw?: string }>;
  /** Provider-specific functions, each with a malformed payload. */
  extraInvalidPayloads?: Array<[string, unknown]>;
  /** How this vendor says the prompt does not fit (its status, body or stream frame, in its own words). */
  contextOverflow: Scenario;
  /** The wire format the provider speaks (default: chat completions). */
  wire?: ConformanceWire;
  /** The vendor's 401 body when it echoes the key it was given (default: OpenAI's shape). */
  keyEchoBody?: (key: string) => unknown;
}

export type { ConformanceCase } from './provider-conformance-failures.js';

const toolScenario: Scenario = {
  split: 6,
  event_delay_ms: 1,
  steps: [
    { text: 'Reading both files.' },
    {
      tool_call: {
        name: 'agent_trigger',
        arguments: { function_id: 'fs::read', payload: { path: 'README.md', lines: [1, 40] } },
      },
    },
    {
      tool_call: {
        name: 'agent_trigger',
        arguments: { function_id: 'fs::read', payload: { path: 'docs/architecture.md' } },
      },
    },
    { tool_call: { name: 'web_fetch', arguments: { url: 'https://example.com/?q="quoted"', max_bytes: 2048 } } },
  ],
  stop: 'tool_calls',
};

export function providerConformanceCases(fixture: () => ProviderFixture, spec: ConformanceSpec): ConformanceCase[] {
  const f = fixture;
  const id = () => f().providerId;
  const fn = (name: string) => `provider::${id()}::${name}`;
  const wire = spec.wire ?? chatCompletionsWire;
  const completions = (fx: ProviderFixture) => fx.fake.requests.filter((r) => r.path.endsWith(wire.path));
  const lastRequest = () => wire.read(completions(f()).at(-1)?.body);
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: () => Promise<void>) => cases.push({ name, run });

  add('declares itself to harness::provider::register and shows in harness::provider::list', async () => {
    await eventually(() =>
      assert.ok(
        f().declarations.some((d) => d.id === id()),
        'no declaration yet',
      ),
    );
    const { providers } = await f().call(contracts.harness.providerList, {});
    const mine = providers.find((p) => p.id === id());
    assert.ok(mine);
    assert.equal(mine.kind, spec.credentialEnvVar ? 'cloud' : 'local');
  });

  add('documents every function in engine::functions::info', async () => {
    const ids = [
      fn('stream'),
      fn('complete'),
      fn('abort'),
      fn('refresh_models'),
      ...(spec.extraInvalidPayloads ?? []).map(([fid]) => fid),
    ];
    for (const fid of new Set(ids)) {
      const info = (await f().call(contracts.engine.functionsInfo, { function_id: fid })) as {
        description?: unknown;
        request_schema?: { type?: string };
        response_schema?: { type?: string };
      };
      assert.equal(typeof info.description, 'string', fid);
      assert.equal(info.request_schema?.type, 'object', fid);
      assert.equal(info.response_schema?.type, 'object', fid);
    }
  });

  add('streams text as ordered deltas and ends with the final message', async () => {
    // Paced like a real vendor; deltas read in one event-loop turn may be coalesced, so at least 2.
    f().fake.enqueue({
      steps: [{ text: 'Hello there, how can I help you today?' }],
      split: 5,
      stop: 'end',
      event_delay_ms: 5,
    });
    const { events, terminal, result } = await f().stream();
    const deltas = ofType(events, 'text_delta');
    assert.ok(deltas.length >= 2, `expected several text deltas, got ${deltas.length}`);
    assert.ok(deltas.every((d) => d.content_index === deltas[0]!.content_index));
    assert.equal(deltas.map((d) => d.delta).join(''), 'Hello there, how can I help you today?');
    assert.equal(terminal?.type, 'done');
    assert.equal(events.at(-1), terminal);
    const message = terminal!.message as { content: unknown[]; stop_reason: string };
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello there, how can I help you today?' }]);
    assert.equal(message.stop_reason, 'end');
    assert.equal(result?.stop_reason, 'end');
    const sent = lastRequest();
    assert.equal(sent.stream, true);
    assert.equal(sent.system, 'Be brief.');
    assert.equal(sent.firstUserText, 'Say hello.');
  });

  add(
    'assembles several tool calls whose arguments arrive split across many deltas, and echoes their ids',
    async () => {
      f().fake.enqueue(toolScenario);
      const tools = [
        { name: 'agent_trigger', description: 'Call a bus function', parameters: { type: 'object', properties: {} } },
      ];
      const { events, terminal } = await f().stream({ tools });
      const starts = ofType(events, 'tool_call_start');
      const ends = ofType(events, 'tool_call_end');
      assert.deepEqual(
        starts.map((s) => s.name),
        ['agent_trigger', 'agent_trigger', 'web_fetch'],
      );
      assert.ok(ofType(events, 'tool_call_delta').length >= 6, 'arguments should arrive in several deltas');
      assert.deepEqual(
        ends.map((e) => e.arguments),
        toolScenario.steps!.slice(1).map((s) => (s as { tool_call: { arguments: unknown } }).tool_call.arguments),
      );
      assert.equal(terminal?.type, 'done');
      const message = terminal!.message as { content: Array<{ type: string; id?: string }>; stop_reason: string };
      assert.equal(message.stop_reason, 'function_call');
      assert.deepEqual(
        message.content.map((b) => b.type),
        ['text', 'function_call', 'function_call', 'function_call'],
      );
      assert.deepEqual(
        message.content.slice(1).map((b) => b.id),
        starts.map((s) => s.id),
      );
      assert.equal(lastRequest().toolTypes[0], 'function');

      // The next turn sends the calls back with their exact ids, and each result as a `tool` message.
      f().fake.enqueue({ steps: [{ text: 'Done.' }] });
      const results = starts.map((s) => ({
        role: 'function_result',
        function_call_id: s.id,
        function_id: 'fs::read',
        content: [{ type: 'text', text: `result of ${s.id}` }],
        is_error: false,
      }));
      await f().stream({ messages: [{ role: 'user', content: 'Read them.' }, message, ...results], tools });
      const sent = lastRequest();
      assert.deepEqual(
        sent.calls.map((c) => c.id),
        starts.map((s) => s.id),
      );
      assert.deepEqual(
        sent.calls[0]!.arguments,
        (toolScenario.steps![1] as { tool_call: { arguments: unknown } }).tool_call.arguments,
      );
      assert.deepEqual(
        sent.results,
        starts.map((s) => [s.id, `result of ${s.id}`]),
      );
    },
  );

  if (spec.thinking) {
    add('streams reasoning as thinking deltas before the answer', async () => {
      f().fake.enqueue({
        steps: [{ thinking: 'The user wants a greeting; keep it short.' }, { text: 'Hi!' }],
        split: 4,
        event_delay_ms: 5,
      });
      const { events, terminal } = await f().stream();
      const thinking = ofType(events, 'thinking_delta');
      assert.ok(thinking.length >= 2);
      assert.equal(thinking.map((t) => t.delta).join(''), 'The user wants a greeting; keep it short.');
      assert.ok(events.indexOf(thinking.at(-1)!) < events.findIndex((e) => e.type === 'text_delta'));
      // Some wires keep the reasoning's encrypted form as its signature; what the user reads is compared.
      const content = (terminal!.message as { content: Array<{ type: string; thinking?: string; text?: string }> })
        .content;
      assert.deepEqual(
        content.map(({ type, thinking, text }) => ({ type, ...(thinking !== undefined ? { thinking } : { text }) })),
        [
          { type: 'thinking', thinking: 'The user wants a greeting; keep it short.' },
          { type: 'text', text: 'Hi!' },
        ],
      );
    });
  }

  add('reports usage with cache tokens (input excludes the cached part)', async () => {
    f().fake.enqueue({ steps: [{ text: 'ok' }], usage: { input: 120, output: 45, cache_read: 80, reasoning: 12 } });
    const { events, terminal } = await f().stream();
    const usage = ofType(events, 'usage').at(-1)?.usage;
    assert.ok(usage, 'no usage event');
    assert.equal(usage.input_tokens, 120);
    assert.equal(usage.output_tokens, 45);
    assert.equal(usage.cache_read_tokens, 80);
    if (spec.reasoningTokens) assert.equal(usage.reasoning_tokens, 12);
    assert.equal((terminal!.message as { usage: Record<string, number> }).usage.cache_read_tokens, 80);
  });

  add('maps every vendor stop reason (unknown ones to other, keeping the raw value)', async () => {
    const table: Array<{ stop: Scenario['stop']; expected: string; raw?: string; tool?: boolean }> = [
      { stop: 'end', expected: 'end' },
      { stop: 'length', expected: 'length' },
      { stop: 'tool_calls', expected: 'function_call', tool: true },
      { stop: { raw: 'function_call' }, expected: 'function_call', tool: true },
      { stop: 'content_filter', expected: 'refusal', raw: 'content_filter' },
      { stop: { raw: 'brand_new_reason' }, expected: 'other', raw: 'brand_new_reason' },
      ...(spec.extraStops ?? []),
    ];
    for (const row of table) {
      const steps = row.tool
        ? [{ tool_call: { name: 'agent_trigger', arguments: { function_id: 'x::y' } } }]
        : [{ text: 'text' }];
      f().fake.enqueue({ steps, stop: row.stop });
      const { terminal } = await f().stream();
      const message = terminal?.message as { stop_reason: string; raw_stop_reason?: string };
      assert.equal(message?.stop_reason, row.expected, JSON.stringify(row.stop));
      assert.equal(message.raw_stop_reason, row.raw, JSON.stringify(row.stop));
    }
  });

  cases.push(...failureCases(f, id, completions, spec.keyEchoBody));

  add('the vendor\'s "prompt too long" is provider_error/context_overflow, not retryable, never retried', async () => {
    const before = f().fake.requests.length;
    f().fake.enqueue(spec.contextOverflow);
    const { events, terminal } = await f().stream();
    assert.equal(ofType(events, 'error').length, 1);
    assert.equal(terminal?.code, 'provider_error');
    assert.equal(terminal?.reason, 'context_overflow');
    assert.equal(terminal?.retryable, false);
    assert.equal(f().fake.requests.length - before, 1);
  });

  add('discovery fills the catalog through models::reconcile', async () => {
    await eventually(() => assert.ok(f().reconciles.length > 0, 'no discovery at start'));
    const result = await f().call(contracts.provider.refreshModels(id()), {});
    const last = f().reconciles.at(-1)!;
    assert.equal(last.provider, id());
    assert.deepEqual(last.models.map((m) => m.id).sort(), [...spec.expectedModelIds].sort());
    assert.equal(result.count, spec.expectedModelIds.length);
    for (const model of last.models) {
      assert.equal(model.provider, id());
      assert.ok((model.context_window as number) > 0 && (model.max_output_tokens as number) > 0);
    }
  });

  if (spec.credentialEnvVar) {
    add('a missing credential is a clear provider_error naming the env var, not a crash', async () => {
      const token = f().token;
      const before = f().fake.requests.length;
      f().setToken(undefined);
      try {
        const { terminal } = await f().stream();
        assert.equal(terminal?.type, 'error');
        assert.equal(terminal?.code, 'provider_error');
        assert.equal(terminal?.retryable, false);
        assert.match(String(terminal?.message), new RegExp(spec.credentialEnvVar!));
        const complete = await f()
          .invoke(fn('complete'), f().request())
          .then(
            () => undefined,
            (error: { code: string; message: string }) => error,
          );
        assert.equal(complete?.code, 'provider_error');
        assert.match(complete!.message, new RegExp(spec.credentialEnvVar!));
        // Without a harness the worker reads the env var itself; unset, the same clear error.
        const saved = process.env[spec.credentialEnvVar!];
        delete process.env[spec.credentialEnvVar!];
        f().harnessAbsent = true;
        try {
          const standalone = await f().stream();
          assert.equal(standalone.terminal?.type, 'error');
          assert.match(String(standalone.terminal?.message), new RegExp(spec.credentialEnvVar!));
        } finally {
          f().harnessAbsent = false;
          if (saved !== undefined) process.env[spec.credentialEnvVar!] = saved;
        }
        assert.equal(f().fake.requests.length, before);
      } finally {
        f().setToken(token);
      }
    });
  }

  add('rejects malformed input to every function with invalid_payload and changes nothing', async () => {
    const bad: Array<[string, unknown]> = [
      [fn('stream'), { request_id: 'r', model: 'm', messages: [] }],
      [
        fn('stream'),
        { request_id: 'r', model: 'm', messages: [{ role: 'user', content: 'x' }], channel: { nope: true } },
      ],
      [fn('complete'), { request_id: 'r', model: 'm', messages: [{ role: 'user', content: 'x' }], surprise: 1 }],
      [fn('abort'), {}],
      [fn('refresh_models'), { provider: 'other' }],
      ...(spec.extraInvalidPayloads ?? []),
    ];
    for (const [fid, payload] of bad) {
      const requests = f().fake.requests.length;
      const reconciles = f().reconciles.length;
      const error = await f()
        .invoke(fid, payload)
        .then(
          () => undefined,
          (e: { code: string }) => e,
        );
      assert.equal(error?.code, 'invalid_payload', `${fid} ${JSON.stringify(payload)}`);
      assert.equal(f().fake.requests.length, requests);
      assert.equal(f().reconciles.length, reconciles);
    }
  });

  // Last: by now 401s, failures, aborts and successes have all been logged.
  add('the key never appears in logs, events or errors', async () => {
    const token = f().token;
    assert.ok(token && token.length >= 8, 'the fixture needs a token to check');
    const auth = f().fake.requests.find((r) => r.headers.authorization)?.headers.authorization;
    assert.equal(auth, `Bearer ${token}`);
    assert.ok(f().worker.logs.text().length > 0);
    assert.ok(!f().worker.logs.text().includes(token), 'key in the logs');
    assert.ok(!JSON.stringify(f().seen.events).includes(token), 'key in an event');
    assert.ok(!f().seen.errors.some((m) => m.includes(token)), 'key in an error');
  });

  return cases;
}
