// The scripted provider as its own process, so tests can kill it with everything else. Two models
// with prices (the model picker and per-turn cost have something to show); turns arrive through
// provider::scripted::script, and the catalog is filled through provider::scripted::refresh_models.
// SCRIPTED_FALLBACK_TEXT: the answer to a request no queued turn fits (a restarted provider has no
// script, and a waiting turn may call it before a test can queue one).
import { runWorkerMain } from '@iii-harness/runtime';
import { createScriptedProvider } from '@iii-harness/testing';

const models = [
  {
    id: 'scripted-small',
    provider: 'scripted',
    display_name: 'Scripted Small',
    context_window: 32_000,
    max_output_tokens: 4_096,
    capabilities: ['tools', 'streaming'],
    pricing: { input: 1, output: 4, cache_read: 0.1, cache_write: 1.25 },
  },
  {
    id: 'scripted-large',
    provider: 'scripted',
    display_name: 'Scripted Large',
    context_window: 200_000,
    max_output_tokens: 16_384,
    capabilities: ['tools', 'thinking', 'streaming'],
    pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  },
];

const text = process.env.SCRIPTED_FALLBACK_TEXT;
await runWorkerMain(createScriptedProvider({ models, fallback: text ? { steps: [{ text }] } : undefined }).spec);
