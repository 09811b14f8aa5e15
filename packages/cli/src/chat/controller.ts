import { uuidv7 } from '@iii-harness/runtime';
import { type AgentEvent, isTerminalTurnState } from '@iii-harness/types';
import { NO_BUDGET_WORKER, sessionBudgetLines } from '../budget/format.js';
import { sessionBudgets } from '../budget/session.js';
import { type HarnessClient, isMissingFunction } from '../client.js';
import { describeError } from '../errors.js';
import { Editor } from './editor.js';
import { EventFeed } from './event-feed.js';
import { type KeyAction as AnyKeyAction, type KeyPress, keyActions } from './keys.js';
import { type Picker, type PickerOption, pickerKey } from './picker.js';
import { runSlash, type SlashContext, slashCompletions } from './slash.js';
import { type HeldCall, type Item, type Live, Transcript } from './transcript.js';

/**
 * The chat, minus the terminal: the session on screen, its event feed, the input editor, the
 * approval prompt and the pickers. The UI renders `snapshot()` and hands every key press to
 * `key()`; nothing here draws. Reconnects are noticed by watching the client's connection, and
 * recovered from the stored stream, `turn::get_state` and `approval::list_pending`.
 */

export type Mode = { kind: 'input' } | { kind: 'deny-reason'; call: HeldCall } | { kind: 'picker'; picker: Picker };

export interface ChatSnapshot {
  version: number;
  items: readonly Item[];
  live: Live;
  editor: { lines: string[]; row: number; col: number };
  mode: Mode;
  sessionId: string;
  provider: string;
  model: string;
  connected: boolean;
  /** A short message under the input (hints, "sending…", errors that need no scrollback). */
  status?: string;
  exitArmed: boolean;
  completions: string[];
  /** Calls the person has answered, waiting for the gate to confirm. */
  deciding: string[];
}

export interface ChatOptions {
  sessionId?: string;
  provider: string;
  model: string;
  history?: string[];
  onExit(): void;
  onSubmitted?(text: string): void;
}

const EXIT_WINDOW_MS = 2_000;

type KeyAction = Exclude<AnyKeyAction, { type: 'paste' }>;

/** Editing keys, straight onto the editor. */
const EDITS: Partial<Record<KeyAction['type'], (editor: Editor) => void>> = {
  newline: (e) => e.newline(),
  backspace: (e) => e.backspace(),
  delete: (e) => e.deleteForward(),
  deleteWord: (e) => e.deleteWord(),
  deleteToStart: (e) => e.deleteToStart(),
  left: (e) => e.left(),
  right: (e) => e.right(),
  up: (e) => e.up(),
  down: (e) => e.down(),
  home: (e) => e.home(),
  end: (e) => e.end(),
};

export class ChatController {
  readonly transcript = new Transcript();
  readonly editor: Editor;
  sessionId = '';
  provider: string;
  model: string;
  mode: Mode = { kind: 'input' };
  status?: string;
  connected = true;

  private feed?: EventFeed;
  private exitArmedUntil = 0;
  private exitTimer?: NodeJS.Timeout;
  private watchTimer?: NodeJS.Timeout;
  private lastState?: string;
  private deciding = new Set<string>();
  private pasting = false;
  private cached?: ChatSnapshot;
  private listeners = new Set<() => void>();
  private closed = false;
  /** The "no llm-budget" note is said once per chat, not after every turn. */
  private budgetNoteShown = false;

  constructor(
    readonly client: HarnessClient,
    private readonly options: ChatOptions,
  ) {
    this.provider = options.provider;
    this.model = options.model;
    this.editor = new Editor(options.history);
    this.transcript.subscribe(() => this.changed());
  }

  // --- the UI's view ------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  changed(): void {
    this.cached = undefined;
    for (const listener of this.listeners) listener();
  }

  snapshot = (): ChatSnapshot => {
    this.cached ??= {
      version: this.transcript.version,
      items: [...this.transcript.items],
      live: { ...this.transcript.live },
      editor: { lines: [...this.editor.lines], row: this.editor.row, col: this.editor.col },
      mode: this.mode,
      sessionId: this.sessionId,
      provider: this.provider,
      model: this.model,
      connected: this.connected,
      ...(this.status ? { status: this.status } : {}),
      exitArmed: Date.now() < this.exitArmedUntil,
      completions: slashCompletions(this.editor.text),
      deciding: [...this.deciding],
    };
    return this.cached;
  };

  setStatus(text: string | undefined): void {
    this.status = text;
    this.changed();
  }

  /** Something went wrong: one line in the transcript. */
  fail(error: unknown): void {
    this.transcript.notice(describeError(error).message, 'error');
  }

  // --- lifecycle ----------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.options.sessionId) await this.openSession(this.options.sessionId);
    else await this.newSession();
    this.watchConnection();
  }

  close(): void {
    this.closed = true;
    this.feed?.stop();
    clearInterval(this.watchTimer);
    clearTimeout(this.exitTimer);
  }

  exit(): void {
    this.close();
    this.options.onExit();
  }

  async newSession(): Promise<void> {
    this.feed?.stop();
    this.sessionId = uuidv7();
    this.transcript.endTurnQuietly();
    this.transcript.notice(`new session ${this.sessionId} · ${this.provider}/${this.model} · /help for commands`);
    await this.follow(0);
  }

  /** Show a stored session and follow it: its path, then the live turn (if any) from its events. */
  async openSession(sessionId: string): Promise<void> {
    this.feed?.stop();
    this.sessionId = sessionId;
    this.transcript.endTurnQuietly();
    const [events, view, path] = await Promise.all([
      this.client.agentEvents(sessionId),
      this.client.turnState(sessionId),
      this.client.messages(sessionId),
    ]);
    const live = view && !isTerminalTurnState(view.state) ? view : undefined;
    if (view) {
      this.provider = view.provider;
      this.model = view.model;
    }
    this.transcript.notice(`session ${sessionId} · ${this.provider}/${this.model}`);
    // The live turn's own entries are replayed from its events below, so they are not shown twice.
    const prefix = live ? `${live.turn_id}:` : undefined;
    this.transcript.history(
      path.messages.filter((m) => !prefix || !m.entry_id.startsWith(prefix)),
      path.compaction_entry_id,
    );
    if (live) for (const event of events.filter((e) => e.turn_id === live.turn_id)) this.transcript.apply(event);
    await this.follow(events.at(-1)?.seq ?? 0);
    await this.recoverHolds();
  }

  private async follow(fromSeq: number): Promise<void> {
    this.feed = new EventFeed(
      {
        follow: (id, onEvent) => this.client.followAgentEvents(id, onEvent),
        list: (id) => this.client.agentEvents(id),
      },
      this.sessionId,
      (events) => this.onEvents(events),
      fromSeq,
      {
        onError: () => undefined,
        onReset: () =>
          this.transcript.notice(
            "the engine has lost this session's events (did it restart without its data?)",
            'warn',
          ),
      },
    );
    await this.feed.start();
  }

  private onEvents(events: AgentEvent[]): void {
    for (const event of events) {
      this.transcript.apply(event);
      if (event.type === 'approval_resolved') this.deciding.delete(event.function_call_id);
      if (event.type === 'turn_completed') {
        this.deciding.clear();
        this.status = undefined;
        void this.showBudgets();
      }
    }
    this.changed();
  }

  /** After each turn: spend and what is left of every budget that may cover the session. */
  async showBudgets(always = false): Promise<void> {
    const budgets = await sessionBudgets(this.client, this.sessionId).catch(() => undefined);
    if (!budgets || this.closed) return;
    if (!budgets.available) {
      if (always || !this.budgetNoteShown) this.transcript.notice(NO_BUDGET_WORKER);
      this.budgetNoteShown = true;
      return;
    }
    const lines = sessionBudgetLines(budgets, this.sessionId);
    if (always && lines.length === 0)
      this.transcript.notice('no budget covers this session (`iii-harness budget create` adds one)');
    for (const line of lines) this.transcript.notice(line.text, line.tight ? 'warn' : 'info');
  }

  // --- reconnects ---------------------------------------------------------------------------

  /** iii-sdk reconnects by itself; we notice it and re-read what happened meanwhile. */
  private watchConnection(): void {
    this.lastState = this.client.state();
    this.watchTimer = setInterval(() => {
      const state = this.client.state();
      if (state === undefined || state === this.lastState) return;
      const was = this.lastState;
      this.lastState = state;
      const connected = state === 'connected';
      if (connected === this.connected) return;
      this.connected = connected;
      this.changed();
      if (!connected) this.setStatus('engine connection lost: reconnecting… (your turn keeps its state)');
      else if (was !== undefined) void this.recover();
    }, 200);
    this.watchTimer.unref();
  }

  /**
   * After a reconnect: read what was written meanwhile, then the turn and the held calls as the
   * workers have them. The engine may be back before the workers are; keep trying until they are.
   */
  async recover(deadlineMs = 120_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        await this.client.sync();
        await this.feed?.resync();
        await this.recoverHolds(true);
        // A turn we show as live that the orchestrator no longer has live (ended, or an engine
        // started with --memory) is over, even if its last event never reached us.
        const view = await this.client.turnState(this.sessionId);
        const stillLive =
          view && !isTerminalTurnState(view.state) && view.turn_id === this.transcript.live.turn?.turn_id;
        if (this.transcript.turnLive && !stillLive) {
          await this.feed?.resync();
          if (this.transcript.turnLive) this.transcript.endTurnQuietly();
        }
        this.setStatus('reconnected');
        return;
      } catch (error) {
        if (this.closed || !this.connected) return;
        const { message } = describeError(error);
        if (Date.now() > deadline) return this.setStatus(`reconnected, but could not catch up: ${message}`);
        this.setStatus(
          isMissingFunction(error) ? 'engine is back; waiting for the harness workers…' : `catching up… (${message})`,
        );
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Held calls of this session, as the approval gate has them now: each shown once. */
  private async recoverHolds(strict = false): Promise<void> {
    const holds = await this.client.pendingHolds(this.sessionId).catch((error: unknown) => {
      if (strict) throw error;
      return undefined;
    });
    if (!holds) return;
    this.transcript.keepOnlyHeld(new Set(holds.map((h) => h.function_call_id)));
    for (const hold of holds) this.transcript.hold(hold);
  }

  // --- actions ------------------------------------------------------------------------------

  submit(): void {
    if (this.editor.continues) {
      this.editor.continueLine();
      return;
    }
    const text = this.editor.take();
    this.changed();
    if (!text.trim()) return;
    this.options.onSubmitted?.(text);
    if (text.startsWith('/')) {
      void runSlash(this.slashContext(), text).catch((error: unknown) => this.fail(error));
      return;
    }
    void this.send(text);
  }

  async send(text: string): Promise<void> {
    const queued = this.transcript.turnLive;
    this.transcript.user(text, queued);
    try {
      await this.client.send({ session_id: this.sessionId, text, provider: this.provider, model: this.model });
    } catch (error) {
      this.fail(error);
    }
  }

  abort(): void {
    if (!this.transcript.turnLive) return;
    this.setStatus('stopping the turn…');
    void this.client.abort(this.sessionId).catch((error: unknown) => this.fail(error));
  }

  decide(call: HeldCall, decision: 'allow' | 'deny', options: { always?: boolean; reason?: string } = {}): void {
    if (this.deciding.has(call.function_call_id)) return;
    this.deciding.add(call.function_call_id);
    this.mode = { kind: 'input' };
    this.setStatus(decision === 'allow' ? `allowing ${call.function_id}…` : `denying ${call.function_id}…`);
    void this.client
      .resolve(this.sessionId, call.function_call_id, decision, options)
      .then(() => this.setStatus(undefined))
      .catch((error: unknown) => {
        this.deciding.delete(call.function_call_id);
        this.fail(error);
      });
  }

  /** Ctrl-C: stop the turn, or clear the input; a second one within two seconds exits. */
  interrupt(): void {
    if (Date.now() < this.exitArmedUntil) {
      this.exit();
      return;
    }
    if (this.transcript.turnLive) this.abort();
    else if (!this.editor.empty) this.editor.clear();
    this.exitArmedUntil = Date.now() + EXIT_WINDOW_MS;
    this.status = this.transcript.turnLive ? 'stopping the turn · Ctrl-C again to exit' : 'Ctrl-C again to exit';
    clearTimeout(this.exitTimer);
    this.exitTimer = setTimeout(() => {
      if (this.status?.endsWith('Ctrl-C again to exit')) this.status = undefined;
      this.changed();
    }, EXIT_WINDOW_MS);
    this.exitTimer.unref();
    this.changed();
  }

  openPicker(title: string, options: PickerOption[], onPick: (value: string) => void | Promise<void>): void {
    if (options.length === 0) {
      this.transcript.notice(`${title}: nothing to choose from`);
      return;
    }
    this.mode = { kind: 'picker', picker: { title, options, index: 0, filter: '', onPick } };
    this.changed();
  }

  /** Every key press of the UI. */
  key(input: string, key: KeyPress): void {
    if (this.closed) return;
    for (const action of keyActions(input, key, this.pasting)) {
      if (action.type === 'paste') this.pasting = action.on;
      else this.act(action);
    }
    this.changed();
  }

  private act(action: KeyAction): void {
    if (action.type === 'interrupt') this.interrupt();
    else if (this.mode.kind === 'picker') this.pickerAction(this.mode.picker, action);
    else if (this.mode.kind === 'deny-reason') this.denyReasonAction(this.mode.call, action);
    else if (!this.approvalAction(action)) this.inputAction(action);
  }

  private denyReasonAction(call: HeldCall, action: KeyAction): void {
    if (action.type === 'escape') this.mode = { kind: 'input' };
    else if (action.type === 'submit') {
      const reason = this.editor.take().trim();
      this.decide(call, 'deny', reason ? { reason } : {});
    } else this.edit(action);
  }

  /**
   * a / A / d answer the first held call while the input is empty; true when the key was one of
   * them. Keys typed fast arrive together ("dnot now"): the first is the answer, the rest is text
   * (the reason, after d).
   */
  private approvalAction(action: KeyAction): boolean {
    const held = this.transcript.live.approvals.find((a) => !this.deciding.has(a.function_call_id));
    if (!held || !this.editor.empty || action.type !== 'text') return false;
    const [first = '', ...rest] = action.text;
    if (first === 'a' || first === 'y') this.decide(held, 'allow');
    else if (first === 'A') this.decide(held, 'allow', { always: true });
    else if (first === 'd' || first === 'n') this.mode = { kind: 'deny-reason', call: held };
    else return false;
    if (rest.length) this.act({ type: 'text', text: rest.join('') });
    return true;
  }

  private inputAction(action: KeyAction): void {
    switch (action.type) {
      case 'escape':
        if (this.transcript.turnLive) this.abort();
        return;
      case 'submit':
        this.submit();
        return;
      case 'expand': {
        const ref = this.transcript.lastExpandable();
        if (ref === undefined || !this.transcript.expand(ref)) this.setStatus('nothing to expand');
        return;
      }
      case 'complete': {
        const [first] = slashCompletions(this.editor.text);
        if (first) this.editor.set(`${first.split(' ')[0]} `);
        return;
      }
      default:
        this.edit(action);
    }
  }

  private edit(action: KeyAction): void {
    if (action.type === 'text') this.editor.insert(action.text);
    else EDITS[action.type]?.(this.editor);
  }

  private pickerAction(picker: Picker, action: KeyAction): void {
    const outcome = pickerKey(picker, action);
    if (outcome === 'stay') return;
    this.mode = { kind: 'input' };
    if (outcome !== 'cancel')
      void Promise.resolve(picker.onPick(outcome.value)).catch((error: unknown) => this.fail(error));
  }

  private slashContext(): SlashContext {
    return { chat: this, client: this.client, transcript: this.transcript };
  }
}
