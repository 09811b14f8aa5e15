import { z } from 'zod';
import * as types from '../src/index.js';
import {
  agentEvent,
  assistantMessage,
  CONTEXT_OVERFLOW_REASON,
  contentBlock,
  errorEnvelope,
  isErrorCode,
  isTerminalEvent,
  message,
  model,
  providerStreamEvent,
  spanTreeNode,
  storedLog,
  traceGroup,
  turnView,
} from '../src/index.js';

const assistant = {
  role: 'assistant',
  content: [
    { type: 'thinking', thinking: 'check the file first', signature: 'sig-1' },
    { type: 'text', text: 'Reading it now.' },
    {
      type: 'function_call',
      id: 'call_1',
      name: 'agent_trigger',
      arguments: { function_id: 'fs::read', payload: { path: 'a.txt' } },
    },
  ],
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  usage: { input_tokens: 12, output_tokens: 30, cache_read_tokens: 0, cache_write_tokens: 4 },
  stop_reason: 'function_call',
};

describe('messages', () => {
  it('accepts the three message roles', () => {
    expect(message.parse({ role: 'user', content: 'hi' })).toEqual({ role: 'user', content: 'hi' });
    expect(message.parse(assistant)).toMatchObject({ stop_reason: 'function_call' });
    expect(
      message.parse({
        role: 'function_result',
        function_call_id: 'call_1',
        function_id: 'fs::read',
        content: [{ type: 'text', text: 'x' }],
        is_error: false,
      }),
    ).toMatchObject({ role: 'function_result' });
  });

  it('fills cache token counts with zero when a provider omits them', () => {
    const parsed = assistantMessage.parse({ ...assistant, usage: { input_tokens: 1, output_tokens: 2 } });
    expect(parsed.usage).toEqual({ input_tokens: 1, output_tokens: 2, cache_read_tokens: 0, cache_write_tokens: 0 });
  });

  it('rejects a function_result block inside an assistant message', () => {
    const bad = { ...assistant, content: [{ type: 'function_result', function_call_id: 'c', content: [] }] };
    expect(assistantMessage.safeParse(bad).success).toBe(false);
  });

  it('rejects unknown stop reasons and negative token counts', () => {
    expect(assistantMessage.safeParse({ ...assistant, stop_reason: 'end_turn' }).success).toBe(false);
    expect(assistantMessage.safeParse({ ...assistant, usage: { input_tokens: -1, output_tokens: 0 } }).success).toBe(
      false,
    );
  });

  it('validates image MIME types', () => {
    expect(contentBlock.safeParse({ type: 'image', mime_type: 'image/png', data: 'AAAA' }).success).toBe(true);
    expect(contentBlock.safeParse({ type: 'image', mime_type: 'text/html', data: 'AAAA' }).success).toBe(false);
  });
});

describe('provider stream events', () => {
  it('parses every event kind and recognises the terminal ones', () => {
    const events = [
      { type: 'text_delta', content_index: 0, delta: 'He' },
      { type: 'thinking_delta', content_index: 1, delta: 'hmm' },
      { type: 'tool_call_start', content_index: 2, id: 'call_1', name: 'agent_trigger' },
      { type: 'tool_call_delta', content_index: 2, id: 'call_1', delta: '{"function_id":' },
      { type: 'tool_call_end', content_index: 2, id: 'call_1', arguments: { function_id: 'x' } },
      { type: 'usage', usage: { input_tokens: 1, output_tokens: 1 } },
      { type: 'done', message: assistant, stop_reason: 'function_call' },
      { type: 'error', code: 'provider_error', message: 'overloaded', retryable: true },
    ].map((e) => providerStreamEvent.parse(e));
    expect(events.filter(isTerminalEvent).map((e) => e.type)).toEqual(['done', 'error']);
  });

  it('carries what vendors add: server tools, citations, refusals, warnings and the overflow reason', () => {
    const rich = {
      ...assistant,
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } },
        {
          type: 'server_tool_result',
          tool_use_id: 'srvtoolu_1',
          result_type: 'web_search_tool_result',
          content: [{ type: 'web_search_result', url: 'https://x.example', encrypted_content: 'E' }],
        },
        {
          type: 'text',
          text: 'Sunny.',
          citations: [
            { type: 'web_search_result_location', url: 'https://x.example', vendor: { encrypted_index: 'I' } },
          ],
        },
      ],
      stop_reason: 'refusal',
      stop_details: { type: 'refusal', category: 'cyber' },
    };
    expect(assistantMessage.parse(rich)).toEqual(rich);
    for (const event of [
      { type: 'content_block', content_index: 0, block: rich.content[0] },
      { type: 'citation', content_index: 2, citation: { type: 'url_citation', url: 'https://x.example' } },
      { type: 'warning', code: 'unsupported_block', feature: 'container_upload', message: 'not supported' },
      { type: 'error', code: 'provider_error', message: 'too long', retryable: false, reason: CONTEXT_OVERFLOW_REASON },
    ])
      expect(providerStreamEvent.parse(event)).toEqual(event);
    expect(CONTEXT_OVERFLOW_REASON).toBe('context_overflow');
    // Text blocks without citations are what they always were.
    expect(contentBlock.parse({ type: 'text', text: 'x' })).toEqual({ type: 'text', text: 'x' });
  });

  it('rejects an error event without retryable', () => {
    expect(providerStreamEvent.safeParse({ type: 'error', code: 'x', message: 'y' }).success).toBe(false);
  });
});

describe('errors', () => {
  it('knows the stable codes of ARCHITECTURE §4', () => {
    expect(types.errorCodes).toEqual([
      'invalid_payload',
      'not_found',
      'conflict',
      'denied',
      'budget_exceeded',
      'provider_error',
      'timeout',
      'unavailable',
      'internal',
    ]);
    expect(isErrorCode('conflict')).toBe(true);
    expect(isErrorCode('invocation_failed')).toBe(false);
  });

  it('accepts a reason under a code and rejects unknown codes', () => {
    expect(errorEnvelope.parse({ code: 'conflict', message: 'a turn is running', reason: 'session_busy' }).reason).toBe(
      'session_busy',
    );
    expect(errorEnvelope.safeParse({ code: 'oops', message: '' }).success).toBe(false);
  });
});

describe('model, turn view and agent events', () => {
  it('parses a catalog model with pricing defaults', () => {
    const parsed = model.parse({
      id: 'gpt-4.1',
      provider: 'openai',
      context_window: 1_047_576,
      max_output_tokens: 32_768,
      capabilities: ['tools', 'images'],
      pricing: { input: 2, output: 8 },
    });
    expect(parsed.pricing).toEqual({ input: 2, output: 8, cache_read: 0, cache_write: 0 });
    expect(model.safeParse({ ...parsed, capabilities: ['telepathy'] }).success).toBe(false);
  });

  it('parses a turn view parked on approvals', () => {
    const view = turnView.parse({
      session_id: 's1',
      turn_id: 't1',
      state: 'function_awaiting_approval',
      provider: 'anthropic',
      model: 'm',
      generations: 1,
      max_turns: 16,
      started_at: 1,
      updated_at: 2,
      pending_approvals: [{ function_call_id: 'c1', function_id: 'shell::exec', args: { cmd: 'ls' }, requested_at: 2 }],
      usage: { input_tokens: 1, output_tokens: 1 },
    });
    expect(view.pending_approvals).toHaveLength(1);
  });

  it('discriminates agent events by type', () => {
    const base = { session_id: 's1', turn_id: 't1', seq: 3, timestamp: 1 };
    const done = agentEvent.parse({
      ...base,
      type: 'turn_completed',
      status: 'aborted',
      usage: { input_tokens: 0, output_tokens: 0 },
    });
    expect(done.type).toBe('turn_completed');
    expect(agentEvent.safeParse({ ...base, type: 'turn_completed', status: 'exploded', usage: {} }).success).toBe(
      false,
    );
    expect(agentEvent.safeParse({ ...base, type: 'no_such_event' }).success).toBe(false);
  });
});

describe('engine telemetry', () => {
  const span = {
    trace_id: 'a1',
    span_id: 'b2',
    parent_span_id: null,
    name: 'execute harness::send',
    start_time_unix_nano: 1_796_548_476_599_000_000,
    end_time_unix_nano: '1796548476764800000',
    status: 'Error',
    attributes: [
      ['session_id', 's1'],
      ['retries', 2],
    ],
    service_name: 'iii-node',
    events: [
      { name: 'exception', timestamp_unix_nano: '1796548476600000000', attributes: { 'exception.type': 'Error' } },
    ],
    links: [],
  };

  it('reads spans whatever form the engine gives times and attributes in', () => {
    const node = spanTreeNode.parse({ ...span, children: [{ ...span, span_id: 'c3', attributes: { k: 'v' } }] });
    expect(node.end_time_unix_nano).toBe(1_796_548_476_764_800_000);
    expect(node.status).toBe('error');
    expect(node.attributes).toEqual([
      ['session_id', 's1'],
      ['retries', '2'],
    ]);
    expect(node.events[0]?.attributes).toEqual([['exception.type', 'Error']]);
    expect(node.children[0]?.attributes).toEqual([['k', 'v']]);
    expect(node.children[0]?.children).toEqual([]);
    expect(spanTreeNode.safeParse({ ...span, start_time_unix_nano: '12ms' }).success).toBe(false);
  });

  it('reads groups and logs', () => {
    const group = { value: 's1', label: null, trace_ids: ['a1'], span_count: 3, first_seen_ms: 1, last_seen_ms: 2 };
    expect(traceGroup.safeParse({ ...group, duration_ms: 1, error_count: 0 }).success).toBe(true);
    expect(traceGroup.safeParse(group).success).toBe(false);
    const log = storedLog.parse({
      timestamp_unix_nano: 5,
      severity_number: 13,
      severity_text: 'WARN',
      body: { msg: 'slow' },
      trace_id: 'a1',
      span_id: null,
    });
    expect(log.body).toBe('{"msg":"slow"}');
    expect(log.attributes).toEqual({});
  });
});

describe('JSON Schema', () => {
  // Workers publish these as request_format / response_format, so every exported schema must convert.
  it('converts every exported schema', () => {
    const schemas = Object.entries(types).filter(([, value]) => value instanceof z.ZodType);
    expect(schemas.length).toBeGreaterThan(30);
    for (const [name, schema] of schemas) {
      expect(() => z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' })).not.toThrow();
      expect(name).toMatch(/^[a-z]/);
    }
  });
});
