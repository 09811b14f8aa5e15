/**
 * Key presses as the chat's actions. Ink hands us `(input, key)`; a chunk of typed or pasted
 * text can hold several presses at once (a fast typist, tmux `send-keys`, a paste), so one call
 * may yield several actions. Bracketed paste (enabled by the UI) marks pasted text, whose line
 * breaks are kept as new lines instead of sending.
 */

/** The subset of Ink's `Key` we read. */
export interface KeyPress {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  shift?: boolean;
  meta?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

export type KeyAction =
  | { type: 'text'; text: string }
  | { type: 'paste'; on: boolean }
  | {
      type:
        | 'submit'
        | 'newline'
        | 'backspace'
        | 'delete'
        | 'deleteWord'
        | 'deleteToStart'
        | 'left'
        | 'right'
        | 'up'
        | 'down'
        | 'home'
        | 'end'
        | 'escape'
        | 'interrupt'
        | 'expand'
        | 'complete';
    };

const PASTE_START = '[200~';
const PASTE_END = '[201~';

const CTRL: Record<string, KeyAction['type']> = {
  c: 'interrupt',
  a: 'home',
  e: 'end',
  w: 'deleteWord',
  u: 'deleteToStart',
  d: 'delete',
  j: 'newline',
  o: 'expand',
  p: 'up',
  n: 'down',
  b: 'left',
  f: 'right',
};

export function keyActions(input: string, key: KeyPress, pasting: boolean): KeyAction[] {
  if (input.includes(PASTE_START) || input.includes(PASTE_END)) return pasteMarkers(input, pasting);
  if (key.ctrl && input.length === 1 && CTRL[input]) return [{ type: CTRL[input] } as KeyAction];
  if (key.return) return [{ type: key.meta || key.shift ? 'newline' : 'submit' }];
  if (key.escape) return [{ type: 'escape' }];
  // Most terminals send DEL (0x7f) for Backspace, which Ink reports as `delete`.
  if (key.backspace || key.delete) return [{ type: 'backspace' }];
  if (key.upArrow) return [{ type: 'up' }];
  if (key.downArrow) return [{ type: 'down' }];
  if (key.leftArrow) return [{ type: 'left' }];
  if (key.rightArrow) return [{ type: 'right' }];
  if (key.home) return [{ type: 'home' }];
  if (key.end) return [{ type: 'end' }];
  if (key.tab) return [{ type: 'complete' }];
  if (input === '\n') return [{ type: 'newline' }];
  if (!input || key.ctrl) return [];
  return typed(input, pasting);
}

/**
 * A chunk of input, key by key. Inside a paste, line breaks are new lines and everything else is
 * text. Typed (several presses in one read), Enter sends, and control characters are the keys
 * they stand for (Ctrl-U then text must clear the line first, not insert a control character).
 */
function typed(input: string, pasting: boolean): KeyAction[] {
  const text = input.replace(/\r\n/g, '\r');
  if (pasting) return [{ type: 'text', text: text.replace(/\r/g, '\n') }];
  const actions: KeyAction[] = [];
  let run = '';
  const flush = () => {
    if (run) actions.push({ type: 'text', text: run });
    run = '';
  };
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0x20 && code !== 0x7f) {
      run += char;
      continue;
    }
    flush();
    if (char === '\r') actions.push({ type: 'submit' });
    else if (char === '\n') actions.push({ type: 'newline' });
    else if (char === '\t') actions.push({ type: 'complete' });
    else if (code === 0x7f || char === '\b') actions.push({ type: 'backspace' });
    else {
      const ctrl = CTRL[String.fromCharCode(code + 96)];
      if (ctrl) actions.push({ type: ctrl } as KeyAction);
    }
  }
  flush();
  return actions;
}

function pasteMarkers(input: string, pasting: boolean): KeyAction[] {
  const actions: KeyAction[] = [];
  let rest = input.replaceAll('\u001b', '');
  let on = pasting;
  while (rest) {
    const start = rest.indexOf(PASTE_START);
    const end = rest.indexOf(PASTE_END);
    const next = [start, end].filter((i) => i >= 0).sort((a, b) => a - b)[0];
    if (next === undefined) {
      actions.push(...typed(rest, on));
      break;
    }
    if (next > 0) actions.push(...typed(rest.slice(0, next), on));
    on = next === start;
    actions.push({ type: 'paste', on });
    rest = rest.slice(next + PASTE_START.length);
  }
  return actions;
}
