import { type FakeVendorServer, startOpenAICompatibleServer } from '@iii-harness/testing';
import OpenAI from 'openai';

// The fake Responses API checked against the official SDK's own stream accumulator: if
// `responses.stream(...).finalResponse()` assembles what the fake sent, the provider tests exercise
// the wire format OpenAI documents.
let fake: FakeVendorServer;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAICompatibleServer({ apiKey: 'sk-fake' });
  client = new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: 'sk-fake', maxRetries: 0 });
});
afterAll(() => fake.close());

describe('fake Responses API, read by the openai SDK', () => {
  it('streams reasoning, text and a function call the SDK assembles into the final response', async () => {
    fake.enqueue({
      steps: [
        { thinking: 'Plan: read the file.' },
        { text: 'Reading it.' },
        { tool_call: { id: 'call_abc', name: 'agent_trigger', arguments: { function_id: 'fs::read' } } },
      ],
      usage: { input: 40, output: 30, cache_read: 10, reasoning: 12 },
      split: 4,
    });
    const response = await client.responses
      .stream({
        model: 'gpt-5-mini',
        input: 'read it',
        store: false,
        include: ['reasoning.encrypted_content'],
      })
      .finalResponse();
    expect(response.status).toBe('completed');
    expect(response.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call']);
    const [reasoning, message, call] = response.output as [
      OpenAI.Responses.ResponseReasoningItem,
      OpenAI.Responses.ResponseOutputMessage,
      OpenAI.Responses.ResponseFunctionToolCall,
    ];
    expect(reasoning.summary).toEqual([{ type: 'summary_text', text: 'Plan: read the file.' }]);
    expect(reasoning.encrypted_content).toMatch(/^gAAAA/);
    expect(message.content).toMatchObject([{ type: 'output_text', text: 'Reading it.', annotations: [] }]);
    expect(call).toMatchObject({ call_id: 'call_abc', name: 'agent_trigger', arguments: '{"function_id":"fs::read"}' });
    expect(response.output_text).toBe('Reading it.');
    expect(response.usage).toMatchObject({
      input_tokens: 50,
      input_tokens_details: { cached_tokens: 10 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 12 },
    });
  });

  it('ends an over-long answer as incomplete (max_output_tokens), and refuses reasoning it never issued', async () => {
    fake.enqueue({ steps: [{ text: 'cut' }], stop: 'length' });
    const response = await client.responses.stream({ model: 'gpt-5-mini', input: 'long' }).finalResponse();
    expect([response.status, response.incomplete_details?.reason]).toEqual(['incomplete', 'max_output_tokens']);

    await expect(
      client.responses.create({
        model: 'gpt-5-mini',
        store: false,
        stream: true,
        input: [
          { role: 'user', content: 'hi' },
          { type: 'reasoning', id: 'rs_unknown', summary: [], encrypted_content: 'forged' },
          { role: 'assistant', content: 'ok' },
        ],
      }),
    ).rejects.toMatchObject({ status: 404 });
  });
});
