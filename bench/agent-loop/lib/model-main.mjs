// The shared script (lib/script.mjs) as a provider process, for the production topology: a pure
// function of the conversation, so nothing is queued per turn. A user message with "held" asks for
// a call that needs a person's approval (the idle-memory phase parks turns on it).
import { createProviderWorker } from '@iii-harness/provider-kit';
import { runWorkerMain } from '@iii-harness/runtime';
import { scriptedConfig } from '@iii-harness/testing';
import { callsAsked, FINAL_TEXT, HELD_TOOL_ID, TOOL_ID, toolCallsFor } from './script.mjs';

const MODEL = {
  id: 'bench-model',
  provider: 'bench',
  context_window: 200_000,
  max_output_tokens: 8192,
  capabilities: ['tools'],
};
const usage = { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 };

const adapter = {
  async stream(request, { sink, started }) {
    started();
    const last = request.messages.at(-1);
    if (last.role !== 'user') {
      sink.text(0, FINAL_TEXT);
      sink.usage(usage);
      return { stop_reason: 'end' };
    }
    const text = typeof last.content === 'string' ? last.content : '';
    const fn = text.includes('held') ? HELD_TOOL_ID : TOOL_ID;
    for (const [i, { id, args }] of toolCallsFor(callsAsked(text)).entries()) {
      sink.toolCallStart(i, id, 'agent_trigger');
      sink.toolCallDelta(i, id, JSON.stringify({ function_id: fn, payload: args }));
      sink.toolCallEnd(i, id);
    }
    sink.usage(usage);
    return { stop_reason: 'function_call' };
  },
  listModels: async () => [MODEL],
};

await runWorkerMain(
  createProviderWorker({
    id: 'bench',
    description: 'agent-loop bench model: the shared script',
    config: scriptedConfig,
    declaration: () => ({
      id: 'bench',
      display_name: 'Bench model',
      default_url: 'http://bench.invalid',
      default_max_tokens: 4096,
      supports_model_listing: true,
      kind: 'local',
    }),
    createAdapter: () => adapter,
  }),
);
