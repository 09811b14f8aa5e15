import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import type { AssistantMessage, SessionEntryBody } from '@iii-harness/types';
import { type Config, sessionWorker } from '../src/index.js';

export interface Stack {
  engine: DevEngine;
  worker: TestWorker<Config>;
  client: TestClient;
  /** The client's bus: `stack.bus.call(contracts.session.append, …)`. */
  bus: TestClient['bus'];
  /** Over the wire without a contract: malformed payloads, engine builtins no contract covers. */
  invoke<T = any>(id: string, payload: unknown): Promise<T>;
  close(): Promise<void>;
}

/** A dev engine, the session worker and a client, all in this process. */
export async function startStack(config: Partial<Config> = {}): Promise<Stack> {
  const engine = await startDevEngine();
  const worker = await startTestWorker(sessionWorker, { url: engine.url, config });
  const client = await connectClient(engine.url);
  return {
    engine,
    worker,
    client,
    bus: client.bus,
    invoke: async (id: string, payload: unknown) => (await client.bus.invoke(id, payload)) as any,
    async close() {
      await client.close();
      await worker.shutdown();
      await engine.close();
    },
  };
}

export const user = (text: string): SessionEntryBody => ({ type: 'message', message: { role: 'user', content: text } });

export const assistant = (
  text: string,
  content: AssistantMessage['content'] = [{ type: 'text', text }],
): SessionEntryBody => ({
  type: 'message',
  message: {
    role: 'assistant',
    content,
    provider: 'scripted',
    model: 'test-model',
    usage: { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 },
    stop_reason: 'end',
  },
});

export const custom = (custom_type: string, data: unknown): SessionEntryBody => ({
  type: 'custom',
  custom_type,
  data: data as never,
});

/** The text of each message of a `session::messages` result. */
export function texts(result: { messages: Array<{ message: { content: unknown } }> }): string[] {
  return result.messages.map(({ message }) =>
    typeof message.content === 'string'
      ? message.content
      : (message.content as Array<{ type: string; text?: string }>).map((b) => b.text ?? `[${b.type}]`).join(''),
  );
}
