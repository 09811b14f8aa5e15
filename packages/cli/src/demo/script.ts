import type { JsonObject, Message } from '@iii-harness/types';

/**
 * The demo "model": a fixed script, not a language model. Each reply is a pure function of the
 * conversation so far, so the same conversation always gets the same answer, and a person can
 * try the whole loop (a streamed answer, a function call, an approval) without any key.
 */

export const DEMO_PROVIDER = 'demo';
export const DEMO_MODEL = 'demo-scripted';
export const DEMO_CLOCK = 'demo::clock';
export const DEMO_SAVE_NOTE = 'demo::save_note';
export const DEMO_LABEL = '[demo: scripted answer, no model]';

type DemoStep = { text: string } | { thinking: string } | { call: { function_id: string; payload: JsonObject } };

export interface DemoReply {
  steps: DemoStep[];
  /** Pause before each streamed piece (a slow answer to watch, or to abort). */
  delayMs: number;
}

const userText = (message: Message) =>
  message.role !== 'user'
    ? ''
    : typeof message.content === 'string'
      ? message.content
      : message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

const resultText = (message: Message) =>
  message.role === 'function_result' ? message.content.map((c) => (c.type === 'text' ? c.text : '')).join('') : '';

/** A long markdown answer, streamed slowly: what Esc / Ctrl-C is for. */
function longAnswer(): string {
  const parts = [`${DEMO_LABEL} A long answer, streamed slowly. Press Esc or Ctrl-C to stop it.\n`];
  for (let i = 1; i <= 40; i++)
    parts.push(
      `## Part ${i}\n\nThe harness streams this paragraph as it arrives, renders it as markdown, and keeps the ` +
        `screen steady however long the answer grows (part ${i} of 40).\n`,
    );
  parts.push('That was the whole long answer.');
  return parts.join('\n');
}

export function demoReply(messages: Message[]): DemoReply {
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  const said = lastUser >= 0 ? userText(messages[lastUser]!).trim() : '';
  const since = messages.slice(lastUser + 1).filter((m) => m.role === 'function_result');
  const clock = since.find((m) => m.role === 'function_result' && m.function_id === DEMO_CLOCK);
  const note = since.find((m) => m.role === 'function_result' && m.function_id === DEMO_SAVE_NOTE);

  if (/\blong\b/i.test(said) && since.length === 0) return { steps: [{ text: longAnswer() }], delayMs: 150 };

  if (!clock && !note)
    return {
      delayMs: 25,
      steps: [
        { thinking: 'The person wants to see the loop. Read the clock first (allowed), then ask to save a note.' },
        {
          text:
            `${DEMO_LABEL}\n\nHello! I am the **offline demo provider**: every answer here is scripted. ` +
            `You said: _${said.slice(0, 200) || '(nothing)'}_\n\nFirst I will call a harmless built-in function, ` +
            `\`${DEMO_CLOCK}\`, which your policy allows without asking.`,
        },
        { call: { function_id: DEMO_CLOCK, payload: {} } },
      ],
    };

  if (!note)
    return {
      delayMs: 25,
      steps: [
        {
          text:
            `${DEMO_LABEL}\n\nThe clock answered: \`${resultText(clock!).slice(0, 120)}\`.\n\n` +
            `Next I will save your message as a note with \`${DEMO_SAVE_NOTE}\`. Nothing in the policy allows it, ` +
            'so the harness holds the call and **asks you first**.',
        },
        { call: { function_id: DEMO_SAVE_NOTE, payload: { text: said.slice(0, 500) } } },
      ],
    };

  const denied = note.role === 'function_result' && note.is_error;
  return {
    delayMs: 25,
    steps: [
      {
        text: denied
          ? `${DEMO_LABEL}\n\nYou said no, so nothing was saved (the call came back: _${resultText(note).slice(0, 200)}_). ` +
            'That is the loop: a streamed answer, a function call, and a decision that was yours.'
          : `${DEMO_LABEL}\n\nSaved. That is the whole loop: a streamed answer, a function call the policy allowed, ` +
            'and one you approved.\n\nTo talk to a real model, set a provider key (`iii-harness doctor` says which) ' +
            'and start `iii-harness chat` again.',
      },
    ],
  };
}
