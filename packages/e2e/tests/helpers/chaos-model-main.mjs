// A provider process whose model is a pure function of the conversation, so it can be killed and
// restarted at any moment without losing a script: the last user message says "calls=N held=M";
// while no function result follows it, the model calls N functions (M of them need a person's
// approval), each with a marker naming the call; once results are in, it answers with a text.
//
// Optional, by environment:
// - CHAOS_WINDOW_TOKENS: a request over this many tokens (o200k) is refused as too long, the way
//   vendors refuse it (`context_overflow`); "overflow=once" in the user message refuses the first
//   attempt of each request, "overflow=always" every attempt.
// - "pad=N" in the user message: each call carries N characters of prose (its result echoes them).
// - A summariser request (context-compaction's system prompt) gets a structured summary, after
//   CHAOS_SUMMARY_DELAY_MS.
// - CHAOS_OUTPUT_TOKENS=max: the reported output is the request's max_tokens (a known worst case).
// - CHAOS_REQUESTS_FILE: one JSON line per request: {request_id, kind, tokens, max_tokens, refused, at}.
// - CHAOS_DELAY_MS: each answer takes a random 0..N ms once started (so a kill can land inside a call).
import { appendFileSync } from 'node:fs';
import { createProviderWorker, ProviderFailure } from '@iii-harness/provider-kit';
import { runWorkerMain } from '@iii-harness/runtime';
import { scriptedConfig } from '@iii-harness/testing';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

const MODEL = {
  id: 'chaos-model',
  provider: 'chaos',
  context_window: 200_000,
  max_output_tokens: 8192,
  capabilities: ['tools', 'streaming'],
};

const env = process.env;
const WINDOW = Number(env.CHAOS_WINDOW_TOKENS ?? 0);
const SUMMARY_DELAY_MS = Number(env.CHAOS_SUMMARY_DELAY_MS ?? 0);
const DELAY_MS = Number(env.CHAOS_DELAY_MS ?? 0);
const PROSE =
  'The build reads src/config/settings.ts and writes dist/out-42.json; request id req-7781 returned 200 in 35 ms. ';
const refusedOnce = new Set();

const SUMMARY = [
  '## Goal',
  'Keep the session working.',
  '## Constraints and preferences',
  '- answer briefly',
  '## Progress',
  '### Done',
  '- earlier turns handled',
  '### In progress',
  '- the current turn',
  '## Decisions (with reasons)',
  '- keep going (the user asked to)',
  '## Next steps',
  '- continue',
  '## Critical context',
  '- nothing else',
].join('\n');

function lastUserIndex(messages) {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return i;
  return -1;
}

const tokensOf = (request) =>
  countTokens(JSON.stringify({ system: request.system ?? '', tools: request.tools ?? [], messages: request.messages }));

function record(entry) {
  if (env.CHAOS_REQUESTS_FILE)
    appendFileSync(env.CHAOS_REQUESTS_FILE, `${JSON.stringify({ ...entry, at: Date.now() })}\n`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const adapter = {
  async stream(request, { sink, started, signal }) {
    const tokens = tokensOf(request);
    const summary = request.system?.includes('working memory') ?? false;
    const entry = {
      request_id: request.request_id,
      kind: summary ? 'summary' : 'agent',
      tokens,
      max_tokens: request.max_tokens,
    };
    const userText = request.messages.findLast((m) => m.role === 'user')?.content;
    const overflow = typeof userText === 'string' ? /overflow=(once|always)/.exec(userText)?.[1] : undefined;
    const refuse =
      !summary &&
      ((WINDOW && tokens > WINDOW) ||
        overflow === 'always' ||
        (overflow === 'once' && !refusedOnce.has(request.request_id)));
    if (refuse) {
      refusedOnce.add(request.request_id);
      record({ ...entry, refused: true });
      throw new ProviderFailure('context_overflow', `prompt is too long: ${tokens} tokens > ${WINDOW} maximum`, {
        retryable: false,
      });
    }
    record({ ...entry, refused: false });
    started();
    if (DELAY_MS) await sleep(Math.random() * DELAY_MS);
    const output = env.CHAOS_OUTPUT_TOKENS === 'max' ? (request.max_tokens ?? 1) : 1;
    const usage = { input_tokens: tokens, output_tokens: output, cache_read_tokens: 0, cache_write_tokens: 0 };
    if (summary) {
      if (SUMMARY_DELAY_MS) await sleep(SUMMARY_DELAY_MS);
      if (signal?.aborted) throw new Error('aborted');
      sink.text(0, SUMMARY);
      sink.usage(usage);
      return { stop_reason: 'end' };
    }
    const messages = request.messages;
    const at = lastUserIndex(messages);
    const answered = messages.slice(at + 1).some((m) => m.role === 'function_result');
    const text = typeof messages[at]?.content === 'string' ? messages[at].content : '';
    const calls = Number(/calls=(\d+)/.exec(text)?.[1] ?? 0);
    const held = Number(/held=(\d+)/.exec(text)?.[1] ?? 0);
    const pad = Number(/pad=(\d+)/.exec(text)?.[1] ?? 0);
    if (answered || calls === 0) {
      sink.text(0, 'All done.');
      sink.usage(usage);
      return { stop_reason: 'end' };
    }
    // Call ids unique within the session: the position of the user message they answer.
    const session = /chaos ([^\s:]+)/.exec(text)?.[1] ?? 'x';
    for (let i = 0; i < calls; i++) {
      const id = `m${at}c${i}`;
      const fn = i < held ? 'tools::held' : 'tools::echo';
      const payload = {
        marker: `${session}/${id}`,
        i,
        ...(pad ? { note: PROSE.repeat(Math.ceil(pad / PROSE.length)).slice(0, pad) } : {}),
      };
      sink.toolCallStart(i, id, 'agent_trigger');
      sink.toolCallDelta(i, id, JSON.stringify({ function_id: fn, payload }));
      sink.toolCallEnd(i, id);
    }
    sink.usage(usage);
    return { stop_reason: 'function_call' };
  },
  listModels: async () => [MODEL],
};

await runWorkerMain(
  createProviderWorker({
    id: 'chaos',
    description: 'Chaos test model: a pure function of the conversation',
    config: scriptedConfig,
    declaration: () => ({
      id: 'chaos',
      display_name: 'Chaos model',
      default_url: 'http://chaos.invalid',
      default_max_tokens: 4096,
      supports_model_listing: true,
      kind: 'local',
    }),
    createAdapter: () => adapter,
  }),
);
