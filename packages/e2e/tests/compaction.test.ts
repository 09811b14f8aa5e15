import { contextCompactionWorker } from '@iii-harness/context-compaction';
import { modelsCatalogWorker } from '@iii-harness/models-catalog';
import type { WorkerSpec } from '@iii-harness/runtime';
import { COMPACTION_PREFIX } from '@iii-harness/session';
import { startTestWorker } from '@iii-harness/testing';
import { contracts, type Message, type SessionEntry } from '@iii-harness/types';
import { z } from 'zod';
import { ChaosModel, catalogModels, sendAndWait } from './helpers/model.js';
import { agentEvents, type Stack, startStack } from './helpers/stack.js';

/**
 * Issue 14, the orchestrator's part: compaction in the turn, with the real orchestrator, session,
 * harness, models catalog and context-compaction worker, and a model process that refuses any
 * request over its window the way vendors do (`context_overflow`) and summarises when the
 * compaction worker asks it to. COMPACTION_TURNS sets the length of the long session (200).
 */
jest.setTimeout(1_200_000);

const WINDOW = 8_192;
const MAX_OUTPUT = 1_024;
const TURNS = Number(process.env.COMPACTION_TURNS ?? 200);

let stack: Stack;
let model: ChaosModel;

beforeAll(async () => {
  stack = await startStack({
    orchestrator: { compaction_timeout_ms: 20_000, compaction_plan_timeout_ms: 5_000 },
    extra: {
      catalog: { spec: modelsCatalogWorker },
      compaction: { spec: contextCompactionWorker },
    },
  });
  model = new ChaosModel(stack.engine.url, { CHAOS_WINDOW_TOKENS: String(WINDOW) });
  await model.start(stack.client);
  await catalogModels(stack.client, [
    { id: 'small-8k', context_window: WINDOW, max_output_tokens: MAX_OUTPUT },
    // What the catalog says is bigger than what the vendor accepts: only the vendor's refusal tells.
    { id: 'claims-32k', context_window: 32_768, max_output_tokens: MAX_OUTPUT },
  ]);
});

afterAll(async () => {
  await model?.stop();
  await stack?.close();
});

const entriesOf = async (session_id: string) =>
  (await stack.client.bus.call(contracts.session.tree, { session_id })).nodes.map((n) => n.entry as SessionEntry);

/** Calls without a result and results without a call in what the model is sent. */
function orphans(messages: Message[]): string[] {
  const out: string[] = [];
  const open = new Set<string>();
  for (const message of messages) {
    if (message.role === 'assistant')
      for (const block of message.content) if (block.type === 'function_call') open.add(block.id);
    if (message.role === 'function_result') {
      if (!open.delete(message.function_call_id)) out.push(`result ${message.function_call_id} without its call`);
    }
  }
  return [...out, ...[...open].map((id) => `call ${id} without its result`)];
}

/** History the model already answered: user / assistant pairs of `chars` characters each. */
async function history(session_id: string, pairs: number, chars: number): Promise<void> {
  await stack.client.bus.call(contracts.session.ensure, { session_id });
  const text = (i: number) =>
    `${i}: ${'the earlier conversation went on about the build and its settings. '.repeat(chars / 68)}`;
  await stack.client.bus.call(contracts.session.appendBatch, {
    session_id,
    entries: Array.from({ length: pairs }, (_, i) => [
      { entry: { type: 'message' as const, message: { role: 'user' as const, content: `question ${text(i)}` } } },
      {
        entry: {
          type: 'message' as const,
          message: {
            role: 'assistant' as const,
            content: [{ type: 'text' as const, text: `answer ${text(i)}` }],
            provider: 'chaos',
            model: 'earlier-model',
            usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 },
            stop_reason: 'end' as const,
          },
        },
      },
    ]).flat(),
  });
}

it(`keeps a session under an 8k window for ${TURNS} turns: compacting when it must, keeping every entry`, async () => {
  const session_id = `long-${Date.now()}`;
  for (let k = 1; k <= TURNS; k++) {
    const view = await sendAndWait(stack.client, {
      session_id,
      text: `chaos ${session_id} turn ${k}: calls=1 held=0 pad=900`,
      model: 'small-8k',
    });
    if (view.state !== 'stopped' || view.outcome !== 'stopped')
      throw new Error(`turn ${k} ended ${view.state}: ${JSON.stringify(view.error)}`);
  }
  const requests = model.requests().filter((r) => r.kind === 'agent');
  const events = await agentEvents(stack, session_id);
  const started = events.filter((e) => e.type === 'compaction_started');
  const done = events.filter((e) => e.type === 'compaction_done');

  if (process.env.COMPACTION_REPORT)
    console.log(
      JSON.stringify({
        turns: TURNS,
        requests: requests.length,
        max_request_tokens: Math.max(...requests.map((r) => r.tokens)),
        compactions: started.length,
        stages: done.map((e) => e.type === 'compaction_done' && e.stage),
        summaries: model.requests().filter((r) => r.kind === 'summary').length,
      }),
    );
  // Every provider request stayed under the window (the model never had to refuse one).
  expect(requests).toHaveLength(2 * TURNS);
  expect(requests.filter((r) => r.refused)).toEqual([]);
  expect(Math.max(...requests.map((r) => r.tokens))).toBeLessThanOrEqual(WINDOW - MAX_OUTPUT);
  // Compaction fired, each time because the request would not have fitted, and only then.
  expect(started.length).toBeGreaterThanOrEqual(2);
  for (const event of started) {
    expect(event).toMatchObject({ reason: 'preflight' });
    if (event.type === 'compaction_started') expect(event.tokens_before).toBeGreaterThan(event.usable_tokens ?? 0);
  }
  expect(done.map((e) => e.type === 'compaction_done' && e.status)).toEqual(started.map(() => 'compacted'));
  // The transcript kept every entry: a user message, the call, its result and the answer per turn.
  const entries = await entriesOf(session_id);
  const messages = entries.filter((e) => e.type === 'message');
  expect(messages).toHaveLength(4 * TURNS);
  expect(entries.filter((e) => e.type === 'compaction')).toHaveLength(started.length);
  const users = messages.flatMap((e) => (e.type === 'message' && e.message.role === 'user' ? [e.message.content] : []));
  expect(new Set(users).size).toBe(TURNS);
  // The model sees [summary + ledger, ...tail], every call with its result.
  const context = (await stack.client.bus.call(contracts.session.messages, { session_id })).messages.map(
    (m) => m.message,
  );
  const first = context[0]!;
  expect(first.role).toBe('user');
  const summary = typeof first.content === 'string' ? first.content : '';
  expect(summary.startsWith(COMPACTION_PREFIX)).toBe(true);
  expect(summary).toContain('## Goal');
  expect(summary).toContain('tools::echo');
  expect(orphans(context)).toEqual([]);
  expect(context.length).toBeLessThan(messages.length);
});

it('a provider that says the context is too long: one compaction, one retry, and the turn goes on', async () => {
  const session_id = `overflow-once-${Date.now()}`;
  await history(session_id, 6, 600);
  const view = await sendAndWait(stack.client, {
    session_id,
    text: `chaos ${session_id} turn 1: calls=0 overflow=once`,
    model: 'claims-32k',
  });
  expect(view).toMatchObject({ state: 'stopped', outcome: 'stopped' });
  const events = await agentEvents(stack, session_id);
  expect(
    events.filter((e) => e.type === 'compaction_started').map((e) => e.type === 'compaction_started' && e.reason),
  ).toEqual(['overflow']);
  expect(events.find((e) => e.type === 'compaction_done')).toMatchObject({ status: 'compacted' });
  const attempts = model.requests().filter((r) => r.kind === 'agent' && r.request_id.startsWith(view.turn_id));
  expect(attempts.map((r) => r.refused)).toEqual([true, false]);
  expect((await entriesOf(session_id)).filter((e) => e.type === 'compaction')).toHaveLength(1);
});

it('a second refusal after the compaction fails the turn with the reason, and compacts no more', async () => {
  const session_id = `overflow-always-${Date.now()}`;
  await history(session_id, 6, 600);
  const view = await sendAndWait(stack.client, {
    session_id,
    text: `chaos ${session_id} turn 1: calls=0 overflow=always`,
    model: 'claims-32k',
  });
  expect(view).toMatchObject({
    state: 'failed',
    error: { code: 'provider_error', reason: 'context_overflow', retryable: false },
  });
  const attempts = model.requests().filter((r) => r.kind === 'agent' && r.request_id.startsWith(view.turn_id));
  expect(attempts.map((r) => r.refused)).toEqual([true, true]);
  expect((await entriesOf(session_id)).filter((e) => e.type === 'compaction')).toHaveLength(1);
});

it('without the compaction worker the turn runs as before: the refusal fails it, nothing waits', async () => {
  if (stack.workers.compaction) await stack.stopWorker('compaction');
  // The orchestrator learns within functions_ttl_ms that the worker is gone.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const session_id = `no-worker-${Date.now()}`;
  await history(session_id, 6, 600);
  const ok = await sendAndWait(stack.client, {
    session_id,
    text: `chaos ${session_id} turn 1: calls=1`,
    model: 'small-8k',
  });
  expect(ok).toMatchObject({ state: 'stopped', outcome: 'stopped' });
  const refused = await sendAndWait(stack.client, {
    session_id,
    text: `chaos ${session_id} turn 2: calls=0 overflow=once`,
    model: 'small-8k',
  });
  expect(refused).toMatchObject({ state: 'failed', error: { reason: 'context_overflow' } });
  const events = await agentEvents(stack, session_id);
  expect(events.filter((e) => e.type.startsWith('compaction'))).toEqual([]);
});

it('a compaction worker that never answers holds the model call up for compaction_timeout_ms only', async () => {
  // A stand-in that always says the request does not fit, and never finishes compacting.
  const hung: WorkerSpec<unknown> = {
    name: 'hung-compaction',
    description: 'a compaction worker that hangs',
    config: z.object({}),
    register(worker) {
      worker.function(contracts.compaction.plan, (input) => ({
        session_id: input.session_id,
        provider: input.provider,
        model: input.model,
        context_window: WINDOW,
        reserve_output_tokens: MAX_OUTPUT,
        safety_margin_tokens: 0,
        usable_tokens: 100,
        projected_tokens: 200,
        basis: 'estimate' as const,
        anchor_entry_id: null,
        estimated_tokens: 200,
        tokenizer: 'estimate',
        messages: 1,
        compaction_entry_id: null,
        needs_compaction: true,
      }));
      worker.function(contracts.compaction.compactNow, () => new Promise<never>(() => {}));
    },
  };
  if (stack.workers.compaction) await stack.stopWorker('compaction');
  const worker = await startTestWorker(hung, { url: stack.engine.url });
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const session_id = `hung-${Date.now()}`;
    // Long enough for the orchestrator's own count to ask the plan.
    await history(session_id, 20, 600);
    const view = await sendAndWait(stack.client, {
      session_id,
      text: `chaos ${session_id} turn 1: calls=0`,
      model: 'small-8k',
    });
    expect(view).toMatchObject({ state: 'stopped', outcome: 'stopped' });
    const events = await agentEvents(stack, session_id);
    expect(
      events
        .filter((e) => e.type.startsWith('compaction'))
        .map((e) => (e.type === 'compaction_done' ? e.status : e.type)),
    ).toEqual(['compaction_started', 'unavailable']);
  } finally {
    await worker.shutdown({ drainMs: 0 });
  }
});
