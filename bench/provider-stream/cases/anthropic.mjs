// Anthropic Messages SSE: provider-anthropic through the bus vs `@anthropic-ai/sdk` reading the
// same fake stream directly (the fake renders each scenario as message_start, ping,
// content_block_start|delta|stop, message_delta, message_stop).
import Anthropic from '@anthropic-ai/sdk';
import { startFakeAnthropic } from '@iii-harness/testing';

const KEY = 'sk-ant-bench-00000000000000000000';

export default {
  id: 'anthropic-messages',
  wireFormat: 'Anthropic Messages SSE',
  providerId: 'anthropic',
  token: KEY,
  apiUrl: (fakeUrl) => fakeUrl,
  worker: (fakeUrl) => ({
    main: 'packages/provider-anthropic/dist/main.js',
    section: 'provider-anthropic',
    config: { base_url: fakeUrl, discover_on_start: false },
    env: { ANTHROPIC_API_KEY: KEY },
  }),
  /** Runs in the fake's own process. */
  startFake: () => startFakeAnthropic({ apiKey: KEY }),
  /** Direct consumption with the official SDK: calls onToken() for each text delta. */
  createDirect(fakeUrl) {
    const client = new Anthropic({ baseURL: fakeUrl, apiKey: KEY, maxRetries: 0 });
    return async (model, onToken) => {
      const stream = await client.messages.create({
        model,
        max_tokens: 4096,
        messages: [{ role: 'user', content: 'Count.' }],
        stream: true,
      });
      for await (const event of stream)
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') onToken();
    };
  },
};
