import type { Message } from '@iii-harness/types';
import { DEMO_CLOCK, DEMO_LABEL, DEMO_SAVE_NOTE, demoReply } from '../../src/demo/script.js';

const user = (content: string): Message => ({ role: 'user', content });
const result = (function_id: string, text: string, is_error = false): Message => ({
  role: 'function_result',
  function_call_id: `c-${function_id}`,
  function_id,
  content: [{ type: 'text', text }],
  is_error,
});
const calls = (messages: Message[]) =>
  demoReply(messages).steps.flatMap((s) => ('call' in s ? [s.call.function_id] : []));
const texts = (messages: Message[]) =>
  demoReply(messages)
    .steps.flatMap((s) => ('text' in s ? [s.text] : []))
    .join('');

describe('the demo script', () => {
  test('answers, reads the clock, asks to save a note, then wraps up; every answer is labelled', () => {
    const first = [user('hi there')];
    expect(calls(first)).toEqual([DEMO_CLOCK]);
    expect(texts(first)).toContain(DEMO_LABEL);
    expect(texts(first)).toContain('hi there');

    const second = [...first, result(DEMO_CLOCK, '{"now":"x"}')];
    expect(calls(second)).toEqual([DEMO_SAVE_NOTE]);
    expect(texts(second)).toContain('asks you first');

    const third = [...second, result(DEMO_SAVE_NOTE, '{"saved":true}')];
    expect(calls(third)).toEqual([]);
    expect(texts(third)).toMatch(/^\[demo: scripted answer, no model\]/);
    expect(texts([...second, result(DEMO_SAVE_NOTE, 'denied (user): no', true)])).toContain('You said no');
  });

  test('"long" gives a long, slow answer without calls', () => {
    const reply = demoReply([user('something long please')]);
    expect(reply.steps).toHaveLength(1);
    expect(reply.delayMs).toBeGreaterThan(0);
    expect(texts([user('long')]).length).toBeGreaterThan(5_000);
  });

  test('each new message starts over (earlier results belong to earlier turns)', () => {
    expect(calls([user('one'), result(DEMO_CLOCK, 'x'), result(DEMO_SAVE_NOTE, 'y'), user('two')])).toEqual([
      DEMO_CLOCK,
    ]);
  });
});
