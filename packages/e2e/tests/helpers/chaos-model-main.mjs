// A provider process whose model is a pure function of the conversation, so it can be killed and
// restarted at any moment without losing a script: the last user message says "calls=N held=M";
// while no function result follows it, the model calls N functions (M of them need a person's
// approval), each with a marker naming the call; once results are in, it answers with a text.
import { createProviderWorker } from '@iii-harness/provider-kit';
import { runWorkerMain } from '@iii-harness/runtime';
import { scriptedConfig } from '@iii-harness/testing';

const MODEL = {
  id: 'chaos-model',
  provider: 'chaos',
  context_window: 200_000,
  max_output_tokens: 8192,
  capabilities: ['tools', 'streaming'],
};

function lastUserIndex(messages) {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return i;
  return -1;
}

const adapter = {
  async stream(request, { sink, started }) {
    started();
    const messages = request.messages;
    const at = lastUserIndex(messages);
    const answered = messages.slice(at + 1).some((m) => m.role === 'function_result');
    const text = typeof messages[at]?.content === 'string' ? messages[at].content : '';
    const calls = Number(/calls=(\d+)/.exec(text)?.[1] ?? 0);
    const held = Number(/held=(\d+)/.exec(text)?.[1] ?? 0);
    if (answered || calls === 0) {
      sink.text(0, 'All done.');
      sink.usage({ input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 });
      return { stop_reason: 'end' };
    }
    // Call ids unique within the session: the position of the user message they answer.
    const session = /chaos ([^\s:]+)/.exec(text)?.[1] ?? 'x';
    for (let i = 0; i < calls; i++) {
      const id = `m${at}c${i}`;
      const fn = i < held ? 'tools::held' : 'tools::echo';
      const args = { function_id: fn, payload: { marker: `${session}/${id}`, i } };
      sink.toolCallStart(i, id, 'agent_trigger');
      sink.toolCallDelta(i, id, JSON.stringify(args));
      sink.toolCallEnd(i, id);
    }
    sink.usage({ input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 });
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
