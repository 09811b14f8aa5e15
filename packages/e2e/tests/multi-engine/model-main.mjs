// A provider process whose model is a pure function of the conversation, so every copy (one per
// engine) answers a request the same way, whichever engine it lands on: the last user message says
// "calls=N"; until function results follow it, the model calls tools::echo N times, each call
// carrying a marker unique in the session; once results are in, it answers with a text.
import { createProviderWorker } from '@iii-harness/provider-kit';
import { runWorkerMain } from '@iii-harness/runtime';
import { scriptedConfig } from '@iii-harness/testing';

const MODEL = {
  id: 'multi-model',
  provider: 'multi',
  context_window: 200_000,
  max_output_tokens: 8192,
  capabilities: ['tools', 'streaming'],
};

const usage = { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 };

const adapter = {
  async stream(request, { sink, started }) {
    started();
    const messages = request.messages;
    let at = messages.length - 1;
    while (at >= 0 && messages[at].role !== 'user') at--;
    const text = typeof messages[at]?.content === 'string' ? messages[at].content : '';
    const answered = messages.slice(at + 1).some((m) => m.role === 'function_result');
    const calls = Number(/calls=(\d+)/.exec(text)?.[1] ?? 0);
    if (answered || calls === 0) {
      sink.text(0, 'done');
      sink.usage(usage);
      return { stop_reason: 'end' };
    }
    const session = /session (\S+)/.exec(text)?.[1] ?? 'x';
    for (let i = 0; i < calls; i++) {
      // Unique in the session: the position of the user message the calls answer.
      const id = `m${at}c${i}`;
      const args = { function_id: 'tools::echo', payload: { marker: `${session}/${id}` } };
      sink.toolCallStart(i, id, 'agent_trigger');
      sink.toolCallDelta(i, id, JSON.stringify(args));
      sink.toolCallEnd(i, id);
    }
    sink.usage(usage);
    return { stop_reason: 'function_call' };
  },
  listModels: async () => [MODEL],
};

await runWorkerMain(
  createProviderWorker({
    id: 'multi',
    description: 'Multi-engine test model: a pure function of the conversation',
    config: scriptedConfig,
    declaration: () => ({
      id: 'multi',
      display_name: 'Multi-engine model',
      default_url: 'http://multi.invalid',
      default_max_tokens: 4096,
      supports_model_listing: true,
      kind: 'local',
    }),
    createAdapter: () => adapter,
  }),
);
