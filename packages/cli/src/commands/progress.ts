import { c } from '../style.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * One line that says what is happening while something slow runs: a spinner on a terminal,
 * plain lines (only when the message changes) otherwise.
 */
export class Progress {
  private message = '';
  private frame = 0;
  private timer?: NodeJS.Timeout;
  private readonly tty = process.stderr.isTTY === true;

  update(message: string): void {
    if (message === this.message) return;
    this.message = message;
    if (!this.tty) return void process.stderr.write(`${message}…\n`);
    this.timer ??= setInterval(() => this.draw(), 80);
    this.draw();
  }

  private draw(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    process.stderr.write(`\r\x1b[2K${c.cyan(FRAMES[this.frame]!)} ${this.message}…`);
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    process.stderr.write('\r\x1b[2K');
  }
}
