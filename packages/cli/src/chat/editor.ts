/**
 * The chat's input: a multi-line buffer with a cursor and a history of sent messages (↑/↓ on the
 * first / last line walk the history, as in a shell). Pure state, no terminal: the UI maps keys
 * to these methods.
 */
export class Editor {
  lines: string[] = [''];
  row = 0;
  col = 0;
  private history: string[] = [];
  /** Position while walking the history; history.length = the draft being written. */
  private historyIndex = 0;
  private draft = '';

  constructor(history: string[] = []) {
    this.history = [...history];
    this.historyIndex = this.history.length;
  }

  get text(): string {
    return this.lines.join('\n');
  }

  get empty(): boolean {
    return this.text === '';
  }

  set(text: string): void {
    this.lines = text.split('\n');
    this.row = this.lines.length - 1;
    this.col = this.lines[this.row]!.length;
  }

  clear(): void {
    this.set('');
  }

  /** Take the text out (to send it) and remember it in the history. */
  take(): string {
    const text = this.text;
    if (text.trim() && this.history.at(-1) !== text) this.history.push(text);
    this.historyIndex = this.history.length;
    this.draft = '';
    this.clear();
    return text;
  }

  insert(text: string): void {
    const normalized = text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ');
    const line = this.lines[this.row]!;
    const before = line.slice(0, this.col);
    const after = line.slice(this.col);
    const parts = normalized.split('\n');
    if (parts.length === 1) {
      this.lines[this.row] = before + normalized + after;
      this.col += normalized.length;
      return;
    }
    const middle = parts.slice(1, -1);
    const last = parts.at(-1)!;
    this.lines.splice(this.row, 1, before + parts[0], ...middle, last + after);
    this.row += parts.length - 1;
    this.col = last.length;
  }

  newline(): void {
    this.insert('\n');
  }

  backspace(): void {
    if (this.col > 0) {
      const line = this.lines[this.row]!;
      this.lines[this.row] = line.slice(0, this.col - 1) + line.slice(this.col);
      this.col--;
    } else if (this.row > 0) {
      const line = this.lines[this.row]!;
      this.lines.splice(this.row, 1);
      this.row--;
      this.col = this.lines[this.row]!.length;
      this.lines[this.row] += line;
    }
  }

  deleteForward(): void {
    const line = this.lines[this.row]!;
    if (this.col < line.length) this.lines[this.row] = line.slice(0, this.col) + line.slice(this.col + 1);
    else if (this.row < this.lines.length - 1) {
      this.lines[this.row] = line + this.lines[this.row + 1];
      this.lines.splice(this.row + 1, 1);
    }
  }

  /** Ctrl-W: the word before the cursor. */
  deleteWord(): void {
    const line = this.lines[this.row]!;
    const before = line.slice(0, this.col).replace(/\S+\s*$|\s+$/, '');
    this.lines[this.row] = before + line.slice(this.col);
    this.col = before.length;
  }

  /** Ctrl-U: the line up to the cursor. */
  deleteToStart(): void {
    this.lines[this.row] = this.lines[this.row]!.slice(this.col);
    this.col = 0;
  }

  left(): void {
    if (this.col > 0) this.col--;
    else if (this.row > 0) {
      this.row--;
      this.col = this.lines[this.row]!.length;
    }
  }

  right(): void {
    if (this.col < this.lines[this.row]!.length) this.col++;
    else if (this.row < this.lines.length - 1) {
      this.row++;
      this.col = 0;
    }
  }

  home(): void {
    this.col = 0;
  }

  end(): void {
    this.col = this.lines[this.row]!.length;
  }

  /** ↑: previous line, or (on the first line) the previous history entry. */
  up(): void {
    if (this.row > 0) {
      this.row--;
      this.col = Math.min(this.col, this.lines[this.row]!.length);
      return;
    }
    if (this.historyIndex === 0) return;
    if (this.historyIndex === this.history.length) this.draft = this.text;
    this.historyIndex--;
    this.set(this.history[this.historyIndex]!);
  }

  /** ↓: next line, or (on the last line) the next history entry, then the draft. */
  down(): void {
    if (this.row < this.lines.length - 1) {
      this.row++;
      this.col = Math.min(this.col, this.lines[this.row]!.length);
      return;
    }
    if (this.historyIndex >= this.history.length) return;
    this.historyIndex++;
    this.set(this.historyIndex === this.history.length ? this.draft : this.history[this.historyIndex]!);
  }

  /** A line ending in `\` asks for another line (Enter then adds one instead of sending). */
  get continues(): boolean {
    return this.lines[this.row]!.endsWith('\\') && this.col === this.lines[this.row]!.length;
  }

  /** Drop the continuation backslash and start a new line. */
  continueLine(): void {
    const line = this.lines[this.row]!;
    this.lines[this.row] = line.slice(0, -1);
    this.col--;
    this.newline();
  }

  get entries(): readonly string[] {
    return this.history;
  }
}
