import type { AgentEvent, AssistantMessage } from '@iii-harness/types';
import { type Item, Transcript } from '../../src/chat/transcript.js';

let seq = 0;
const base = () => ({ session_id: 's', turn_id: 't', seq: ++seq, timestamp: 1_000 + seq });
const text = (delta: string, content_index = 0): AgentEvent => ({
  ...base(),
  type: 'message_update',
  kind: 'text',
  content_index,
  delta,
});
const usage = { input_tokens: 10, output_tokens: 5, cache_read_tokens: 0, cache_write_tokens: 0 };
const assistant = (
  content: AssistantMessage['content'],
  stop: AssistantMessage['stop_reason'] = 'end',
): AgentEvent => ({
  ...base(),
  type: 'message_complete',
  message: { role: 'assistant', content, provider: 'p', model: 'm', usage, stop_reason: stop },
});
const kinds = (items: readonly Item[]) => items.map((i) => i.kind);

describe('Transcript', () => {
  test('streamed text becomes items block by block; the rest is live until the message completes', () => {
    const t = new Transcript();
    t.apply({ ...base(), type: 'turn_started', provider: 'p', model: 'm' });
    t.apply(text('First para'));
    t.apply(text('graph.\n\nSecond'));
    expect(t.items).toEqual([expect.objectContaining({ kind: 'markdown', text: 'First paragraph.\n\n' })]);
    expect(t.live.text).toBe('Second');
    t.apply(assistant([{ type: 'text', text: 'First paragraph.\n\nSecond one.' }]));
    // The final message fills in what the deltas had not delivered yet.
    expect(t.items.map((i) => (i.kind === 'markdown' ? i.text : ''))).toEqual(['First paragraph.\n\n', 'Second one.']);
    expect(t.live.text).toBe('');
    t.apply({ ...base(), type: 'turn_completed', status: 'stopped', usage, cost_usd: 0.01 });
    expect(t.items.at(-1)).toMatchObject({ kind: 'turn_end', status: 'stopped', cost_usd: 0.01 });
    expect(t.turnLive).toBe(false);
  });

  test('a message that was not streamed is shown from the final message, once', () => {
    const t = new Transcript();
    t.apply(
      assistant([
        { type: 'thinking', thinking: 'hmm' },
        { type: 'text', text: 'Answer.' },
      ]),
    );
    expect(kinds(t.items)).toEqual(['thinking', 'markdown']);
  });

  test('a held call: one header, one prompt; the decision, the run and its result follow', () => {
    const t = new Transcript();
    const held = { function_call_id: 'c1', function_id: 'fs::write', args: { path: '/x' } };
    t.apply({ ...base(), type: 'approval_requested', ...held });
    t.hold(held); // found again after a reconnect
    expect(t.live.approvals).toHaveLength(1);
    expect(kinds(t.items)).toEqual(['call']);
    t.apply({ ...base(), type: 'approval_resolved', function_call_id: 'c1', decision: 'allow' });
    expect(t.live.approvals).toEqual([]);
    t.apply({ ...base(), type: 'function_execution_start', ...held });
    expect(t.live.running).toHaveLength(1);
    t.apply({
      ...base(),
      type: 'function_execution_end',
      function_call_id: 'c1',
      function_id: 'fs::write',
      result: 'ok',
      is_error: false,
      duration_ms: 3,
    });
    expect(kinds(t.items)).toEqual(['call', 'decision', 'result']);
    expect(t.live.running).toEqual([]);
    // Everything about call #1 can be expanded.
    expect(t.expand(1)).toBe(true);
    expect(t.items.at(-1)).toMatchObject({ kind: 'expanded', text: expect.stringContaining('"path": "/x"') });
  });

  test('a denied call has no start: its end shows the call and the denial', () => {
    const t = new Transcript();
    t.apply({
      ...base(),
      type: 'function_execution_end',
      function_call_id: 'c9',
      function_id: 'shell::exec',
      result: 'denied (policy): no',
      is_error: true,
      duration_ms: 0,
    });
    expect(kinds(t.items)).toEqual(['call', 'result']);
  });

  test('keepOnlyHeld drops prompts decided elsewhere', () => {
    const t = new Transcript();
    t.hold({ function_call_id: 'a', function_id: 'f', args: {} });
    t.hold({ function_call_id: 'b', function_id: 'g', args: {} });
    t.keepOnlyHeld(new Set(['b']));
    expect(t.live.approvals.map((a) => a.function_call_id)).toEqual(['b']);
  });

  test('history: a stored conversation, agent_trigger calls unwrapped, an aborted answer marked', () => {
    const t = new Transcript();
    t.history([
      { entry_id: 'u1', message: { role: 'user', content: 'hi' } },
      {
        entry_id: 'a1',
        message: {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Looking.' },
            {
              type: 'function_call',
              id: 'c1',
              name: 'agent_trigger',
              arguments: { function_id: 'models::list', payload: {} },
            },
          ],
          provider: 'p',
          model: 'm',
          usage,
          stop_reason: 'function_call',
        },
      },
      {
        entry_id: 'r1',
        message: {
          role: 'function_result',
          function_call_id: 'c1',
          function_id: 'models::list',
          content: [{ type: 'text', text: '[]' }],
          is_error: false,
        },
      },
      {
        entry_id: 'a2',
        message: {
          role: 'assistant',
          content: [{ type: 'text', text: 'Half' }],
          provider: 'p',
          model: 'm',
          usage,
          stop_reason: 'aborted',
        },
      },
    ]);
    expect(kinds(t.items)).toEqual(['user', 'markdown', 'call', 'result', 'markdown', 'notice']);
    expect(t.items[2]).toMatchObject({ function_id: 'models::list' });
  });

  test('a turn waiting for a missing worker says so until the next news of the turn', () => {
    const t = new Transcript();
    t.apply({ ...base(), type: 'turn_started', provider: 'p', model: 'm' });
    t.apply({
      ...base(),
      type: 'turn_waiting',
      function_id: 'provider::p::stream',
      reason: 'provider p is not running',
      gives_up_at: 99_000,
    });
    expect(t.live.turn?.waiting).toEqual({
      function_id: 'provider::p::stream',
      reason: 'provider p is not running',
      gives_up_at: 99_000,
    });
    t.apply(text('Back.'));
    expect(t.live.turn?.waiting).toBeUndefined();
  });

  describe('what vendors send today', () => {
    const searched: AssistantMessage['content'] = [
      { type: 'text', text: 'Let me look.' },
      { type: 'server_tool_use', id: 'srv_1', name: 'web_search', input: { query: 'iii engine' } },
      {
        type: 'server_tool_result',
        tool_use_id: 'srv_1',
        result_type: 'web_search_tool_result',
        content: [
          { type: 'web_search_result', url: 'https://iii.dev', title: 'iii', encrypted_content: 'QUJD' },
          { type: 'web_search_result', url: 'https://iii.dev/docs', title: 'Docs', encrypted_content: 'REVG' },
        ],
      },
      {
        type: 'text',
        text: 'iii is an engine.',
        citations: [
          { type: 'web_search_result_location', url: 'https://iii.dev', title: 'iii', cited_text: 'an engine' },
          { type: 'web_search_result_location', url: 'https://iii.dev', title: 'iii', cited_text: 'again' },
          { type: 'char_location', cited_text: 'from the uploaded file' },
        ],
      },
    ];

    test('a vendor tool, its result and the sources of a text, in the order of the message', () => {
      const t = new Transcript();
      t.apply(text('Let me look.'));
      // Index 3 after 0: blocks 1 and 2 came whole (the search). The answer waits for them, shown live.
      t.apply(text('iii is an engine.\n\nIt runs ', 3));
      expect(kinds(t.items)).toEqual(['markdown']);
      expect(t.live.text).toBe('iii is an engine.\n\nIt runs ');
      t.apply(assistant(searched));
      expect(kinds(t.items)).toEqual(['markdown', 'vendor_call', 'vendor_result', 'markdown', 'sources']);
      expect(t.items[1]).toMatchObject({ name: 'web_search', input: { query: 'iii engine' }, provider: 'p' });
      expect(t.items[2]).toMatchObject({
        lines: ['2 results', 'iii — https://iii.dev', 'Docs — https://iii.dev/docs'],
        is_error: false,
      });
      expect(t.items[3]).toMatchObject({ text: 'iii is an engine.' });
      // The same source cited twice is listed once.
      expect(t.items[4]).toMatchObject({ lines: ['[1] iii — https://iii.dev', '[2] “from the uploaded file”'] });
      expect(t.live.text).toBe('');
      // /expand shows the input and the result, without the encrypted blobs.
      const ref = (t.items[1] as { ref: number }).ref;
      expect(t.expand(ref)).toBe(true);
      const expanded = t.items.at(-1) as { text: string };
      expect(expanded.text).toContain('"query": "iii engine"');
      expect(expanded.text).toContain('"encrypted_content": "[encrypted]"');
      expect(expanded.text).not.toContain('QUJD');
    });

    test('held-back text too long to hold streams out of order; a turn that ends without its message keeps it', () => {
      const long = new Transcript();
      long.apply(text('Intro.\n\n'));
      long.apply(text(`${'word '.repeat(400)}\n\nmore`, 3));
      expect(kinds(long.items)).toEqual(['markdown', 'markdown']);
      expect(long.live.text).toBe('more');

      const cut = new Transcript();
      cut.apply(text('Intro.\n\n'));
      cut.apply(text('half an answer', 2));
      expect(kinds(cut.items)).toEqual(['markdown']);
      cut.apply({ ...base(), type: 'turn_completed', status: 'aborted', usage });
      expect(cut.items.map((i) => (i.kind === 'markdown' ? i.text : i.kind))).toEqual([
        'Intro.\n\n',
        'half an answer',
        'turn_end',
      ]);
    });

    test('a stored message shows the same items', () => {
      const t = new Transcript();
      t.history([
        {
          entry_id: 'a1',
          message: { role: 'assistant', content: searched, provider: 'p', model: 'm', usage, stop_reason: 'end' },
        },
      ]);
      expect(kinds(t.items)).toEqual(['markdown', 'vendor_call', 'vendor_result', 'markdown', 'sources']);
    });

    test('a refusal says so, with the vendor details; a provider warning is a notice', () => {
      const t = new Transcript();
      t.apply({
        ...base(),
        type: 'message_complete',
        message: {
          role: 'assistant',
          content: [{ type: 'text', text: 'I cannot help with that.' }],
          provider: 'anthropic',
          model: 'm',
          usage,
          stop_reason: 'refusal',
          stop_details: { type: 'refusal', category: 'cyber', explanation: 'this looks like malware' },
        },
      });
      expect(t.items.at(-1)).toMatchObject({
        kind: 'notice',
        level: 'warn',
        text: 'the model declined to answer (cyber): this looks like malware',
      });
      t.apply({
        ...base(),
        type: 'provider_warning',
        provider: 'anthropic',
        code: 'unsupported_block',
        feature: 'container_upload',
        message: 'Anthropic sent a container_upload block, which is not supported',
      });
      expect(t.items.at(-1)).toMatchObject({
        kind: 'notice',
        level: 'warn',
        text: 'part of the reply is not shown: Anthropic sent a container_upload block, which is not supported (anthropic, unsupported_block)',
      });
    });
  });
});
