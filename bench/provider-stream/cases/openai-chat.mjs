// OpenAI chat-completions SSE: provider-openai through the bus vs the `openai` SDK reading the
// same fake stream directly. Other wire formats add a file like this one (e.g. anthropic-messages.mjs).
import { startOpenAICompatibleServer } from '@iii-harness/testing';
import OpenAI from 'openai';

const KEY = 'sk-bench-openai-0000000000000000';

export default {
  id: 'openai-chat',
  wireFormat: 'OpenAI chat completions SSE',
  providerId: 'openai',
  token: KEY,
  apiUrl: (fakeUrl) => `${fakeUrl}/v1`,
  worker: (fakeUrl) => ({
    main: 'packages/provider-openai/dist/main.js',
    section: 'provider-openai',
    config: { base_url: `${fakeUrl}/v1`, discover_on_start: false },
    env: { OPENAI_API_KEY: KEY },
  }),
  /** Runs in the fake's own process. */
  startFake: () => startOpenAICompatibleServer({ apiKey: KEY }),
  /** Direct consumption with the official SDK: calls onToken(text) for each text delta. */
  createDirect(fakeUrl) {
    const client = new OpenAI({ baseURL: `${fakeUrl}/v1`, apiKey: KEY, maxRetries: 0 });
    return async (model, onToken) => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Count.' }],
        stream: true,
        stream_options: { include_usage: true },
        max_completion_tokens: 4096,
      });
      for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta?.content;
        if (text) onToken(text);
      }
    };
  },
};
