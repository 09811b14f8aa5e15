import type { ProviderRequest, ResolvedProvider } from '@iii-harness/provider-kit';
import type { Message } from '@iii-harness/types';
import { buildRequest, configSchema, convertMessages, mapStopReason, toModel } from '../src/index.js';

const config = configSchema.parse({});
const settings: ResolvedProvider = {
  provider: 'anthropic',
  kind: 'cloud',
  api_url: 'http://x',
  max_tokens: 2048,
  credential: { configured: true, source: 'environment', token: 'k' },
};
const usage = { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 };
const assistant = (content: any[], extra: Record<string, unknown> = {}): Message =>
  ({
    role: 'assistant',
    content,
    provider: 'anthropic',
    model: 'claude',
    usage,
    stop_reason: 'function_call',
    ...extra,
  }) as Message;
const result = (id: string, text: string, is_error = false): Message => ({
  role: 'function_result',
  function_call_id: id,
  function_id: 'fs::read',
  content: [{ type: 'text', text }],
  is_error,
});
const request = (over: Partial<ProviderRequest> = {}): ProviderRequest => ({
  request_id: 'r',
  model: 'claude-sonnet-4-5',
  messages: [{ role: 'user', content: 'hi' }],
  ...over,
});

describe('convertMessages', () => {
  it('turns function results into tool_result blocks of one user message, results first', () => {
    const out = convertMessages(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image', mime_type: 'image/png', data: 'iVBOR' },
          ],
        },
        assistant([
          { type: 'thinking', thinking: 'plan', signature: 'sig-1' },
          { type: 'text', text: 'reading' },
          { type: 'function_call', id: 'toolu_1', name: 'agent_trigger', arguments: { a: 1 } },
          { type: 'function_call', id: 'toolu_2', name: 'agent_trigger', arguments: {} },
        ]),
        result('toolu_1', 'one'),
        result('toolu_2', 'two', true),
        { role: 'user', content: 'and now?' },
      ],
      'anthropic',
    );
    expect(out).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'plan', signature: 'sig-1' },
          { type: 'text', text: 'reading' },
          { type: 'tool_use', id: 'toolu_1', name: 'agent_trigger', input: { a: 1 } },
          { type: 'tool_use', id: 'toolu_2', name: 'agent_trigger', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'one' }] },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'two' }], is_error: true },
          { type: 'text', text: 'and now?' },
        ],
      },
    ]);
  });

  it('replays redacted thinking, drops unsigned or foreign thinking and empty text', () => {
    const out = convertMessages(
      [
        { role: 'user', content: 'q' },
        assistant(
          [
            { type: 'thinking', thinking: '', signature: 'ENCRYPTED', redacted: true },
            { type: 'thinking', thinking: 'no sig' },
            { type: 'text', text: '' },
            { type: 'text', text: 'a' },
          ],
          { stop_reason: 'end' },
        ),
        { role: 'user', content: 'q2' },
        assistant(
          [
            { type: 'thinking', thinking: 'other vendor', signature: 'x' },
            { type: 'text', text: 'b' },
          ],
          { provider: 'openai', stop_reason: 'end' },
        ),
      ],
      'anthropic',
    );
    expect(out[1]!.content).toEqual([
      { type: 'redacted_thinking', data: 'ENCRYPTED' },
      { type: 'text', text: 'a' },
    ]);
    expect(out[3]!.content).toEqual([{ type: 'text', text: 'b' }]);
  });

  it('merges consecutive same-role messages and repairs unanswered or orphaned tool calls', () => {
    const out = convertMessages(
      [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        assistant([{ type: 'function_call', id: 'call.1:x', name: 'fs.read', arguments: {} }], {
          stop_reason: 'aborted',
        }),
        { role: 'user', content: 'three' },
        result('gone', 'late result'),
      ],
      'anthropic',
    );
    // The aborted call had no result: dropped, which empties the assistant message; the users merge.
    expect(out).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
          { type: 'text', text: 'three' },
          { type: 'text', text: '[result of call gone]\nlate result' },
        ],
      },
    ]);
    const named = convertMessages(
      [
        { role: 'user', content: 'x' },
        assistant([{ type: 'function_call', id: 'call.1:x', name: 'fs.read', arguments: {} }]),
        result('call.1:x', 'ok'),
      ],
      'anthropic',
    );
    expect(named[1]!.content[0]).toMatchObject({ type: 'tool_use', id: 'call_1_x', name: 'fs_read' });
    expect(named[2]!.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'call_1_x' });
  });
});

describe('convertMessages: server tools', () => {
  const use = { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } };
  it('drops a server tool whose result never came, unless Anthropic is to continue that very message', () => {
    const cut = assistant([{ type: 'text', text: 'Searching.' }, use], { stop_reason: 'aborted' });
    expect(
      convertMessages([{ role: 'user', content: 'q?' }, cut, { role: 'user', content: 'go on' }], 'anthropic')[1],
    ).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Searching.' }] });
    const paused = assistant([{ type: 'text', text: 'Searching.' }, use], { stop_reason: 'other' });
    expect(convertMessages([{ role: 'user', content: 'q?' }, paused], 'anthropic')[1]!.content).toEqual([
      { type: 'text', text: 'Searching.' },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } },
    ]);
  });
});

describe('buildRequest', () => {
  const tools: NonNullable<ProviderRequest['tools']> = [
    {
      name: 'agent_trigger',
      description: 'call a function',
      parameters: { type: 'object', properties: { function_id: { type: 'string' } } },
    },
    { name: 'other', description: 'x', parameters: { properties: {} } },
  ];

  it('puts cache breakpoints on system, last tool and last message; streams; no temperature', () => {
    const { body } = buildRequest(
      request({ system: 'Be brief.', tools, temperature: 0.2 }),
      settings,
      config,
      'anthropic',
    );
    expect(body).toMatchObject({
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      stream: true,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    });
    expect(body.tools!.map((t: any) => t.cache_control)).toEqual([undefined, { type: 'ephemeral' }]);
    expect((body.tools![1] as any).input_schema).toEqual({ type: 'object', properties: {} });
    expect(body.messages.at(-1)!.content).toEqual([{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }]);
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('thinking');
  });

  it('offers the configured server tools after the function tools, the breakpoint on the last', () => {
    const withSearch = configSchema.parse({
      server_tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }],
    });
    expect(buildRequest(request({ tools }), settings, withSearch, 'anthropic').body.tools!.slice(1)).toEqual([
      { name: 'other', description: 'x', input_schema: { type: 'object', properties: {} } },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 3, cache_control: { type: 'ephemeral' } },
    ]);
    expect(buildRequest(request({}), settings, withSearch, 'anthropic').body.tools).toEqual([
      { type: 'web_search_20250305', name: 'web_search', max_uses: 3, cache_control: { type: 'ephemeral' } },
    ]);
  });

  it('leaves the breakpoints out when configured off', () => {
    const off = configSchema.parse({ cache_system: false, cache_tools: false, cache_last_message: false });
    const text = JSON.stringify(buildRequest(request({ system: 's', tools }), settings, off, 'anthropic').body);
    expect(text).not.toContain('cache_control');
  });

  it('enables thinking with a budget below max_tokens', () => {
    expect(
      buildRequest(
        request({ thinking: { enabled: true, budget_tokens: 1500 }, max_tokens: 4000 }),
        settings,
        config,
        'anthropic',
      ).body,
    ).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1500 }, max_tokens: 4000 });
    // max_tokens 2048 (settings) <= default budget 4096: the budget is added on top.
    expect(buildRequest(request({ thinking: { enabled: true } }), settings, config, 'anthropic').body).toMatchObject({
      thinking: { budget_tokens: 4096 },
      max_tokens: 2048 + 4096,
    });
    expect(
      buildRequest(request({ thinking: { enabled: true, effort: 'high' } }), settings, config, 'anthropic').body
        .thinking,
    ).toEqual({ type: 'enabled', budget_tokens: 16384 });
    expect(
      buildRequest(request({ thinking: { enabled: true, budget_tokens: 10 } }), settings, config, 'anthropic').body
        .thinking,
    ).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(
      buildRequest(request({ thinking: { enabled: false } }), settings, config, 'anthropic').body,
    ).not.toHaveProperty('thinking');
  });
});

describe('mapStopReason', () => {
  it.each([
    ['end_turn', { stop_reason: 'end' }],
    ['max_tokens', { stop_reason: 'length' }],
    ['tool_use', { stop_reason: 'function_call' }],
    ['stop_sequence', { stop_reason: 'end', raw_stop_reason: 'stop_sequence' }],
    ['model_context_window_exceeded', { stop_reason: 'length', raw_stop_reason: 'model_context_window_exceeded' }],
    ['refusal', { stop_reason: 'refusal' }],
    ['pause_turn', { stop_reason: 'other', raw_stop_reason: 'pause_turn' }],
    ['brand_new_reason', { stop_reason: 'other', raw_stop_reason: 'brand_new_reason' }],
  ])('%s → %j', (raw, expected) => expect(mapStopReason(raw)).toEqual(expected));
});

describe('toModel', () => {
  it('takes limits from the API when given, else from the known table, else safe defaults; prices from the kit', () => {
    expect(toModel('anthropic', { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5' })).toEqual({
      id: 'claude-sonnet-4-5-20250929',
      provider: 'anthropic',
      display_name: 'Claude Sonnet 4.5',
      context_window: 200_000,
      max_output_tokens: 64_000,
      capabilities: ['tools', 'images', 'prompt_caching', 'streaming', 'thinking'],
      pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
    });
    expect(
      toModel('anthropic', {
        id: 'claude-next-9',
        display_name: 'Next',
        max_input_tokens: 1_000_000,
        max_tokens: 128_000,
      }),
    ).toMatchObject({ context_window: 1_000_000, max_output_tokens: 128_000 });
    expect(toModel('anthropic', { id: 'claude-next-9', display_name: 'Next' })).toMatchObject({
      context_window: 200_000,
      max_output_tokens: 8192,
      capabilities: ['tools', 'images', 'prompt_caching', 'streaming'],
    });
  });
});
