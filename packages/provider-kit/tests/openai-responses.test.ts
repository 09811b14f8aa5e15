import { type Message, type ProviderStreamEvent, providerStreamEvent } from '@iii-harness/types';
import {
  buildResponsesBody,
  compatFor,
  type ProviderFailure,
  type ResponsesEvent,
  ResponsesStreamMapper,
  reasoningSignature,
  StreamSink,
  toResponsesInput,
} from '../src/index.js';

function mapped(events: ResponsesEvent[]) {
  const sent: ProviderStreamEvent[] = [];
  const sink = new StreamSink(
    { sendMessage: (m) => void sent.push(providerStreamEvent.parse(JSON.parse(m))), close: () => undefined },
    'openai',
    'gpt-5',
  );
  const mapper = new ResponsesStreamMapper(sink);
  for (const event of events) mapper.push(event);
  const outcome = mapper.finish();
  return { outcome, message: sink.done(outcome.stop_reason, outcome), sent };
}
const terminal = (status: string, extra: Record<string, unknown> = {}): ResponsesEvent => ({
  type:
    status === 'completed'
      ? 'response.completed'
      : status === 'cancelled'
        ? 'response.cancelled'
        : 'response.incomplete',
  response: { status, ...extra },
});
const text = (delta: string): ResponsesEvent[] => [
  { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'msg_1', content: [] } },
  { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta },
];
const usage = { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 };

describe('ResponsesStreamMapper', () => {
  it.each([
    ['completed', {}, { stop_reason: 'end' }],
    ['incomplete', { incomplete_details: { reason: 'max_output_tokens' } }, { stop_reason: 'length' }],
    [
      'incomplete',
      { incomplete_details: { reason: 'content_filter' } },
      { stop_reason: 'refusal', raw_stop_reason: 'content_filter', stop_details: { type: 'content_filter' } },
    ],
    [
      'incomplete',
      { incomplete_details: { reason: 'brand_new' } },
      { stop_reason: 'other', raw_stop_reason: 'brand_new' },
    ],
    ['cancelled', {}, { stop_reason: 'aborted', raw_stop_reason: 'cancelled' }],
  ])('maps status %s %j', (status, extra, expected) => {
    expect(mapped([...text('x'), terminal(status, extra)]).outcome).toEqual(expected);
  });

  it('fails a failed response or an error event by its code, context overflow included', () => {
    const failure = (event: ResponsesEvent) => {
      try {
        mapped([event]);
      } catch (error) {
        return [(error as ProviderFailure).kind, (error as ProviderFailure).retryable];
      }
      return undefined;
    };
    const failed = (code: string) => ({
      type: 'response.failed',
      response: { status: 'failed', error: { code, message: 'nope' } },
    });
    expect(failure(failed('server_error'))).toEqual(['server', true]);
    expect(failure(failed('rate_limit_exceeded'))).toEqual(['rate_limited', true]);
    expect(failure(failed('invalid_prompt'))).toEqual(['bad_request', false]);
    expect(failure(failed('context_length_exceeded'))).toEqual(['context_overflow', false]);
    expect(failure({ type: 'error', code: 'whatever', message: 'x' })).toEqual(['unknown', false]);
    expect(() => mapped(text('x'))).toThrow('ended before the response did');
  });

  it('joins summary parts, keeps the encrypted item as the signature, and takes unstreamed content whole', () => {
    const { message } = mapped([
      { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } },
      { type: 'response.reasoning_summary_part.added', output_index: 0, summary_index: 0 },
      { type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: 'First.' },
      { type: 'response.reasoning_summary_part.added', output_index: 0, summary_index: 1 },
      { type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 1, delta: 'Second.' },
      {
        type: 'response.output_item.done',
        output_index: 0,
        item: {
          type: 'reasoning',
          id: 'rs_1',
          summary: [
            { type: 'summary_text', text: 'First.' },
            { type: 'summary_text', text: 'Second.' },
          ],
          encrypted_content: 'gAAAA1',
        },
      },
      {
        type: 'response.output_item.done',
        output_index: 1,
        item: { type: 'message', id: 'msg_1', content: [{ type: 'output_text', text: 'Whole.', annotations: [] }] },
      },
      {
        type: 'response.output_item.done',
        output_index: 2,
        item: { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'gAAAA2' },
      },
      terminal('completed'),
    ]);
    expect(message.content).toEqual([
      {
        type: 'thinking',
        thinking: 'First.\n\nSecond.',
        signature: reasoningSignature({
          id: 'rs_1',
          summary: [
            { type: 'summary_text', text: 'First.' },
            { type: 'summary_text', text: 'Second.' },
          ],
          encrypted_content: 'gAAAA1',
        }),
      },
      { type: 'text', text: 'Whole.' },
      // Reasoning with no summary: encrypted only, replayed but never shown.
      {
        type: 'thinking',
        thinking: '',
        signature: reasoningSignature({ id: 'rs_2', summary: [], encrypted_content: 'gAAAA2' }),
        redacted: true,
      },
    ]);
  });
});

describe('toResponsesInput / buildResponsesBody', () => {
  const compat = compatFor(
    { toolCallIdFormat: 'openai', supportsReasoningEffort: true, supportsTemperature: false },
    'gpt-5',
  );
  const signature = reasoningSignature({ id: 'rs_9', summary: [], encrypted_content: 'gAAAA9' });
  const assistant = (content: unknown[], model = 'gpt-5'): Message =>
    ({ role: 'assistant', content, provider: 'openai', model, usage, stop_reason: 'function_call' }) as Message;

  it('drops calls whose output never came and reasoning left with nothing after it; orphan outputs become text', () => {
    const input = toResponsesInput(
      [
        { role: 'user', content: 'go' },
        assistant([
          { type: 'thinking', thinking: '', signature },
          { type: 'function_call', id: 'call_cut', name: 'agent_trigger', arguments: {} },
        ]),
        {
          role: 'function_result',
          function_call_id: 'call_lost',
          function_id: 'x::y',
          content: [{ type: 'text', text: 'late' }],
          is_error: true,
        },
      ],
      compat,
      { provider: 'openai', model: 'gpt-5' },
    );
    expect(input).toEqual([
      { role: 'user', content: 'go' },
      { role: 'user', content: '[result of call call_lost, failed]\nlate' },
    ]);
  });

  it('sends images as input_image parts, another vendor reasoning never, and asks reasoning models for encrypted reasoning', () => {
    const body = buildResponsesBody(
      {
        request_id: 'r',
        model: 'gpt-5',
        system: 'S',
        temperature: 0.5,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'see' },
              { type: 'image', mime_type: 'image/png', data: 'AAA' },
            ],
          },
          {
            ...assistant([
              { type: 'thinking', thinking: 'x', signature: 'anthropic-sig' },
              { type: 'text', text: 'ok' },
            ]),
          },
          { role: 'user', content: 'more' },
        ],
      },
      compat,
      1000,
      { provider: 'openai', reasoningSummary: 'auto' },
    );
    expect(body).toEqual({
      model: 'gpt-5',
      instructions: 'S',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'see' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAA', detail: 'auto' },
          ],
        },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'more' },
      ],
      stream: true,
      store: false,
      max_output_tokens: 1000,
      include: ['reasoning.encrypted_content'],
      reasoning: { summary: 'auto' },
    });
  });
});
