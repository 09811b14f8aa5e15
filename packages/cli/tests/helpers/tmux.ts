import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './cli.js';

/**
 * A real pseudo-terminal: a tmux server of our own (its own socket, so nothing else is touched),
 * one window running a command. We type into it with send-keys and read the screen, scrollback
 * included, with capture-pane.
 */
export class Tmux {
  private readonly socket = `iih-test-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly target = 'chat';

  constructor(
    readonly width = 120,
    readonly height = 40,
  ) {}

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  }

  /** Run `command` (a shell line) in a fresh window; the window stays after it exits. */
  start(command: string, env: NodeJS.ProcessEnv, cwd = process.cwd()): void {
    const exports = Object.entries(env)
      .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `${k}=${shellQuote(v!)}`)
      .join(' ');
    this.tmux(
      'new-session',
      '-d',
      '-s',
      this.target,
      '-c',
      cwd,
      '-x',
      String(this.width),
      '-y',
      String(this.height),
      `env -i ${exports} ${command}; echo "[exited $?]"; sleep 600`,
    );
    this.tmux('set-option', '-t', this.target, 'history-limit', '20000');
    this.tmux('set-window-option', '-t', this.target, 'remain-on-exit', 'on');
  }

  /** Keys as tmux names them: literal text, or `Enter`, `Escape`, `C-c`... */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.target, ...keys);
  }

  /** Literal text (no key-name lookup), then nothing else. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.target, '-l', text);
  }

  /** Everything on the screen and in the scrollback, as plain text. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', this.target, '-S', '-20000');
  }

  async waitFor(match: RegExp | ((screen: string) => boolean), timeoutMs = 30_000): Promise<string> {
    return eventually(() => {
      const text = this.screen();
      const ok = typeof match === 'function' ? match(text) : match.test(text);
      if (!ok) throw new Error(`screen never matched ${match}:\n${text.split('\n').slice(-40).join('\n')}`);
      return text;
    }, timeoutMs);
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    // tmux leaves the socket file of a server that exits this way.
    const uid = process.getuid?.() ?? 0;
    rmSync(join(process.env.TMUX_TMPDIR ?? tmpdir(), `tmux-${uid}`, this.socket), { force: true });
  }
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** How many times a pattern occurs in a text. */
export const count = (text: string, pattern: RegExp): number =>
  (text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`)) ?? [])
    .length;
