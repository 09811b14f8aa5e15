import { createHash } from 'node:crypto';
import {
  type AdapterContext,
  createProviderWorker,
  type ProviderConfig,
  ProviderFailure,
  type ProviderRequest,
  providerConfigShape,
  type StreamOutcome,
  sleep,
} from '@iii-harness/provider-kit';
import type { Handler, WorkerSpec } from '@iii-harness/runtime';
import { contract, type Model } from '@iii-harness/types';
import { z } from 'zod';
import { DEMO_CLOCK, DEMO_LABEL, DEMO_MODEL, DEMO_PROVIDER, DEMO_SAVE_NOTE, demoReply } from './script.js';

/**
 * The offline demo provider: `provider::demo::*` over the script in `script.ts`, plus the two
 * harmless functions the script calls. It runs only when someone chooses it (`--provider demo`,
 * `iii-harness dev --demo`); it is never part of the default stack.
 */

const demoModel: Model = {
  id: DEMO_MODEL,
  provider: DEMO_PROVIDER,
  display_name: 'Demo (scripted, offline: not a model)',
  context_window: 100_000,
  max_output_tokens: 4_096,
  capabilities: ['tools', 'thinking', 'streaming'],
  pricing: { input: 0, output: 0, cache_read: 0, cache_write: 0 },
};

/** The demo's own functions, served by this worker and called by agents through `agent_trigger`. */
const clock = contract({
  id: DEMO_CLOCK,
  description: `${DEMO_LABEL} The current time of the machine running the demo (read-only, harmless)`,
  input: z.object({}).loose(),
  output: z.object({ now: z.string(), timezone: z.string() }),
});
const saveNote = contract({
  id: DEMO_SAVE_NOTE,
  description: `${DEMO_LABEL} Keep a short note in the demo's memory (lost when the demo stops)`,
  input: z.object({ text: z.string().max(2_000) }).strict(),
  output: z.object({ saved: z.literal(true), notes: z.number().int() }),
});

const config = z.object({ ...providerConfigShape, discover_on_start: z.boolean().default(true) }).strict();

async function play(request: ProviderRequest, { sink, signal, started }: AdapterContext): Promise<StreamOutcome> {
  // Like a real vendor, an unknown model is an error (and the turn fails with it).
  if (request.model !== DEMO_MODEL)
    throw new ProviderFailure(
      'not_found',
      `the demo provider has one model, ${DEMO_MODEL}; there is no ${request.model}`,
      {
        retryable: false,
      },
    );
  const reply = demoReply(request.messages);
  const pause = () => (reply.delayMs ? sleep(reply.delayMs, signal) : undefined);
  started();
  let calls = 0;
  for (const [index, step] of reply.steps.entries()) {
    if ('text' in step || 'thinking' in step) {
      const text = 'text' in step ? step.text : step.thinking;
      for (const chunk of text.match(/[\s\S]{1,24}/g) ?? []) {
        await pause();
        if ('text' in step) sink.text(index, chunk);
        else sink.thinking(index, chunk);
      }
    } else {
      calls++;
      const id = `call_${createHash('sha256').update(request.request_id).digest('hex').slice(0, 12)}_${index}`;
      await pause();
      sink.toolCallStart(index, id, 'agent_trigger');
      sink.toolCallDelta(index, id, JSON.stringify(step.call));
      sink.toolCallEnd(index, id);
    }
  }
  const words = reply.steps.reduce((n, s) => n + ('text' in s ? s.text.split(/\s+/).length : 0), 0);
  sink.usage({ input_tokens: 0, output_tokens: words, cache_read_tokens: 0, cache_write_tokens: 0 });
  return { stop_reason: calls > 0 ? 'function_call' : 'end' };
}

const provider = createProviderWorker<z.infer<typeof config> & ProviderConfig>({
  id: DEMO_PROVIDER,
  description: 'Offline demo provider shipped with the iii-harness CLI: scripted answers, no model, no key',
  config,
  declaration: () => ({
    id: DEMO_PROVIDER,
    display_name: 'Demo (scripted, offline)',
    default_url: 'http://demo.invalid',
    default_max_tokens: 4_096,
    supports_model_listing: true,
    kind: 'local',
  }),
  createAdapter: () => ({ stream: play, listModels: async () => [demoModel] }),
});

export function demoWorker(): WorkerSpec<z.infer<typeof config>> {
  const notes: string[] = [];
  const serveClock: Handler<typeof clock> = () => ({
    now: new Date().toISOString(),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  const serveSaveNote: Handler<typeof saveNote> = ({ text }) => {
    notes.push(text);
    return { saved: true as const, notes: notes.length };
  };
  return {
    ...provider,
    bin: 'iii-harness demo-provider',
    async register(worker) {
      await provider.register(worker);
      worker.function(clock, serveClock);
      worker.function(saveNote, serveSaveNote);
    },
  };
}
