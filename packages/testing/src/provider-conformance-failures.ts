import assert from 'node:assert/strict';
import { contracts } from '@iii-harness/types';
import { eventually } from './eventually.js';
import type { RecordedRequest } from './fake-vendors/server.js';
import type { ProviderFixture } from './provider-fixture.js';
import type { ProviderEvent } from './provider-stream.js';

export interface ConformanceCase {
  name: string;
  run(): Promise<void>;
}

export type Ev = ProviderEvent & {
  content_index?: number;
  delta?: string;
  id?: string;
  name?: string;
  arguments?: unknown;
  usage?: Record<string, number>;
};
export const ofType = (events: ProviderEvent[], type: string) => events.filter((e) => e.type === type) as Ev[];

/** OpenAI's 401 body, here quoting the key in full (some gateways and local servers do). */
const openAIKeyEcho = (key: string) => ({
  error: {
    message: `Incorrect API key provided: ${key}.`,
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
});

/**
 * The failure half of the conformance cases: 401 without retry (and without the key, even when the
 * vendor echoes it), 429 after retry-after, 500 before the first byte retried, an error
 * mid-stream ended once and never retried, and abort.
 */
export function failureCases(
  f: () => ProviderFixture,
  id: () => string,
  chatRequests: (fixture: ProviderFixture) => RecordedRequest[],
  keyEchoBody: (key: string) => unknown = openAIKeyEcho,
): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: () => Promise<void>) => cases.push({ name, run });

  add('fails a 401 at once, without retrying', async () => {
    const before = chatRequests(f()).length;
    f().fake.enqueue({ http_error: { status: 401 } });
    const { events, terminal } = await f().stream();
    assert.equal(events.length, 1);
    assert.equal(terminal?.type, 'error');
    assert.equal(terminal?.code, 'provider_error');
    assert.equal(terminal?.retryable, false);
    assert.equal(chatRequests(f()).length - before, 1);
  });

  add('a 401 body that echoes the key never carries it to the caller (event, partial, complete error)', async () => {
    const key = f().token!;
    const body = keyEchoBody(key);
    f().fake.enqueue({ http_error: { status: 401, body } });
    const { terminal } = await f().stream();
    assert.equal(terminal?.type, 'error');
    assert.ok(!JSON.stringify(terminal).includes(key), `key in the error event: ${JSON.stringify(terminal)}`);
    assert.match(String(terminal?.message), /\[redacted\]/);
    f().fake.enqueue({ http_error: { status: 401, body } });
    const error = await f()
      .call(contracts.provider.complete(id()), f().request() as never)
      .then(
        () => undefined,
        (e: Error) => e,
      );
    assert.ok(error && !error.message.includes(key), `key in the complete error: ${error?.message}`);
  });

  add('retries a 429 after the retry-after the server asked for', async () => {
    const before = chatRequests(f()).length;
    f().fake.enqueue(
      { http_error: { status: 429, headers: { 'retry-after': '0.25' } } },
      { steps: [{ text: 'after the wait' }] },
    );
    const started = Date.now();
    const { terminal } = await f().stream();
    assert.equal(terminal?.type, 'done');
    assert.ok(Date.now() - started >= 240, `retried after ${Date.now() - started} ms, before retry-after`);
    assert.equal(chatRequests(f()).length - before, 2);
  });

  add('retries a 500 that came before the first byte', async () => {
    const before = chatRequests(f()).length;
    f().fake.enqueue({ http_error: { status: 500 } }, { steps: [{ text: 'second time lucky' }] });
    const { terminal, events } = await f().stream();
    assert.equal(terminal?.type, 'done');
    assert.equal(
      ofType(events, 'text_delta')
        .map((d) => d.delta)
        .join(''),
      'second time lucky',
    );
    assert.equal(chatRequests(f()).length - before, 2);
  });

  add('ends an error in the middle of the stream with one error event and no retry', async () => {
    const before = chatRequests(f()).length;
    f().fake.enqueue({
      steps: [{ text: 'partial answer' }, { text: 'never sent' }],
      error_mid_stream: { after_steps: 1, message: 'upstream model crashed', type: 'server_error' },
    });
    const { events, terminal } = await f().stream();
    assert.equal(ofType(events, 'error').length, 1);
    assert.equal(ofType(events, 'done').length, 0);
    assert.equal(terminal, events.at(-1));
    assert.match(String(terminal?.message), /upstream model crashed/);
    assert.equal(
      ofType(events, 'text_delta')
        .map((d) => d.delta)
        .join(''),
      'partial answer',
    );
    assert.equal(chatRequests(f()).length - before, 1);
  });

  // The latency target (≤ 100 ms) is measured by bench/provider-stream (abort mode), not asserted
  // here: timing assertions fail on a loaded CI machine. Here: the upstream is closed long before
  // the stream (4 s) could have ended on its own.
  add(
    'abort closes the upstream connection long before the stream ends and ends with the partial message',
    async () => {
      f().fake.enqueue({
        steps: [{ text: 'a slow answer that goes on and on and on and on and on and on and on and on' }],
        split: 100,
        event_delay_ms: 40,
      });
      const request = f().request();
      const run = f().open(request);
      await run.waitFor((e) => e.type === 'text_delta');
      const abortsBefore = f().fake.clientAborts.length;
      const asked = Date.now();
      const abort = contracts.provider.abort(id());
      assert.deepEqual(await f().call(abort, { request_id: String(request.request_id) }), { aborted: true });
      await eventually(() => assert.ok(f().fake.clientAborts.length > abortsBefore, 'upstream still open'), {
        timeoutMs: 1_000,
        intervalMs: 5,
      });
      const closedAfter = f().fake.clientAborts.at(-1)! - asked;
      assert.ok(closedAfter < 1_000, `upstream closed ${closedAfter} ms after abort`);
      const { terminal } = await run.finished;
      assert.equal(terminal?.type, 'done');
      assert.equal((terminal!.message as { stop_reason: string }).stop_reason, 'aborted');
      assert.ok(((terminal!.message as { content: Array<{ text: string }> }).content[0]?.text ?? '').length > 0);
      assert.deepEqual(await f().call(abort, { request_id: String(request.request_id) }), { aborted: false });
    },
  );

  return cases;
}
