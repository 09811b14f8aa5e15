import { keyActions } from '../../src/chat/keys.js';

describe('keyActions', () => {
  test('Enter sends; Alt-Enter and Ctrl-J add a line', () => {
    expect(keyActions('', { return: true }, false)).toEqual([{ type: 'submit' }]);
    expect(keyActions('', { return: true, meta: true }, false)).toEqual([{ type: 'newline' }]);
    expect(keyActions('j', { ctrl: true }, false)).toEqual([{ type: 'newline' }]);
    expect(keyActions('\n', {}, false)).toEqual([{ type: 'newline' }]);
  });

  test('several presses in one read are split: text, then Enter', () => {
    expect(keyActions('hello\r', {}, false)).toEqual([{ type: 'text', text: 'hello' }, { type: 'submit' }]);
    expect(keyActions('a\rb', {}, false)).toEqual([
      { type: 'text', text: 'a' },
      { type: 'submit' },
      { type: 'text', text: 'b' },
    ]);
  });

  test('control characters inside a chunk are keys, not text', () => {
    expect(keyActions('\u0015new text', {}, false)).toEqual([
      { type: 'deleteToStart' },
      { type: 'text', text: 'new text' },
    ]);
    expect(keyActions('ab\u007f', {}, false)).toEqual([{ type: 'text', text: 'ab' }, { type: 'backspace' }]);
  });

  test('a bracketed paste keeps its line breaks as new lines', () => {
    expect(keyActions('[200~line one\rline two[201~', {}, false)).toEqual([
      { type: 'paste', on: true },
      { type: 'text', text: 'line one\nline two' },
      { type: 'paste', on: false },
    ]);
    // a paste split over reads: the middle part is still pasted text
    expect(keyActions('more\rlines', {}, true)).toEqual([{ type: 'text', text: 'more\nlines' }]);
  });

  test('Ctrl keys', () => {
    expect(keyActions('c', { ctrl: true }, false)).toEqual([{ type: 'interrupt' }]);
    expect(keyActions('o', { ctrl: true }, false)).toEqual([{ type: 'expand' }]);
    expect(keyActions('w', { ctrl: true }, false)).toEqual([{ type: 'deleteWord' }]);
    expect(keyActions('', { escape: true }, false)).toEqual([{ type: 'escape' }]);
    // Backspace arrives as DEL, which Ink calls delete.
    expect(keyActions('', { delete: true }, false)).toEqual([{ type: 'backspace' }]);
  });
});
