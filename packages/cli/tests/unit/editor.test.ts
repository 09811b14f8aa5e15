import { Editor } from '../../src/chat/editor.js';

describe('Editor', () => {
  test('inserts, moves and deletes across lines', () => {
    const e = new Editor();
    e.insert('hello');
    e.newline();
    e.insert('world');
    expect(e.text).toBe('hello\nworld');
    e.home();
    e.backspace(); // joins the lines
    expect(e.text).toBe('helloworld');
    expect([e.row, e.col]).toEqual([0, 5]);
    e.insert(' ');
    e.end();
    e.deleteWord();
    expect(e.text).toBe('hello ');
    e.deleteToStart();
    expect(e.text).toBe('');
  });

  test('a pasted block keeps its lines and the cursor lands at its end', () => {
    const e = new Editor();
    e.insert('ab');
    e.left();
    e.insert('1\r\n2\n3');
    expect(e.lines).toEqual(['a1', '2', '3b']);
    expect([e.row, e.col]).toEqual([2, 1]);
  });

  test('↑/↓ walk the history on the first/last line and restore the draft', () => {
    const e = new Editor(['first', 'second']);
    e.insert('draft');
    e.up();
    expect(e.text).toBe('second');
    e.up();
    expect(e.text).toBe('first');
    e.up();
    expect(e.text).toBe('first');
    e.down();
    e.down();
    expect(e.text).toBe('draft');
  });

  test('take() empties the editor and remembers the text once', () => {
    const e = new Editor();
    e.insert('same');
    expect(e.take()).toBe('same');
    e.insert('same');
    e.take();
    expect(e.entries).toEqual(['same']);
    expect(e.empty).toBe(true);
  });

  test('a trailing backslash continues on a new line', () => {
    const e = new Editor();
    e.insert('line one \\');
    expect(e.continues).toBe(true);
    e.continueLine();
    expect(e.lines).toEqual(['line one ', '']);
  });
});
