import type {
  AgentEvent,
  ApprovalMode,
  AssistantMessage,
  JsonObject,
  JsonValue,
  SessionEvent,
} from '@iii-harness/types';
import { batch, computed, signal } from '@preact/signals';
import type { TurnSummary } from '../../../src/protocol';
import { CallError, isCode, rpc } from '../lib/rpc';
import { announce, chatPath, navigate, reportError, toast } from './app';
import { chosenModel, copyChoice } from './models';
import { SeqBuffer } from './seq';
import { activePath, addNode, buildRows, emptyTree, newestLeafUnder, type Row, type Tree } from './transcript';

export type CallStatus = 'streaming' | 'running' | 'held' | 'approved' | 'done' | 'error' | 'denied' | 'aborted';

export interface LiveCall {
  status: CallStatus;
  function_id?: string;
  args?: JsonObject;
  result?: JsonValue;
  duration_ms?: number;
  reason?: string;
}

export interface DraftBlock {
  kind: 'text' | 'thinking' | 'tool_call';
  text: string;
  function_call_id?: string;
}

/** The assistant message being streamed (from `message_update` deltas), until its entry lands. */
export interface Draft {
  turn_id: string;
  blocks: DraftBlock[];
  complete?: AssistantMessage;
  /** Assistant entries on the path when the draft began: a new one of its turn is the draft landed. */
  known: ReadonlySet<string>;
  /**
   * Contents of the messages its turn completed before it: their entries may land after this
   * draft began, and are not it.
   */
  earlier: ReadonlySet<string>;
}

export interface LiveTurn {
  turn_id: string;
  state: string;
  provider?: string;
  model?: string;
}

/** How long events wait behind a missing one before the gap is skipped (most gaps never fill). */
const GAP_MS = 150;

/**
 * One open session: its entry tree (session::tree, then `session::events`), its turns and the
 * live one (console.activity, then `agent::events`), the streamed draft and each call's status.
 * Snapshots carry `seq`; events at or below it are ignored, so a re-read after a reconnect
 * replaces what is on screen without losing or doubling anything.
 */
export class ChatView {
  readonly loading = signal(true);
  readonly error = signal<string | null>(null);
  readonly version = signal(0);
  readonly live = signal<LiveTurn | null>(null);
  /** A worker the live turn needs is away; the turn waits for it until `gives_up_at`. */
  readonly waiting = signal<{ function_id: string; reason: string; gives_up_at: number } | null>(null);
  readonly draft = signal<Draft | null>(null);
  readonly calls = signal<ReadonlyMap<string, LiveCall>>(new Map());
  readonly turns = signal<ReadonlyMap<string, TurnSummary>>(new Map());
  readonly mode = signal<ApprovalMode | null>(null);
  readonly queued = signal<string[]>([]);
  readonly pendingUser = signal<Array<{ key: string; text: string }>>([]);
  readonly deleted = signal(false);

  private tree: Tree = emptyTree();
  private sessionSeq = 0;
  private leafSeq = 0;
  private agent = new SeqBuffer<AgentEvent>(0);
  private seen = new Set<number>();
  private gapTimer?: ReturnType<typeof setTimeout>;
  private loadingNow = false;
  private loadAgain = false;
  private early: { agent: AgentEvent[]; session: SessionEvent[] } = { agent: [], session: [] };
  private closed = false;

  readonly path = computed(() => {
    void this.version.value;
    return activePath(this.tree);
  });

  readonly rows = computed((): Row[] => {
    const rows = buildRows(this.path.value, this.turns.value);
    const path = this.path.value;
    for (const p of this.pendingUser.value)
      if (!path.some((e) => e.type === 'message' && e.message.role === 'user' && sameText(e.message.content, p.text)))
        rows.push({ kind: 'pending', key: `pending:${p.key}`, text: p.text });
    if (this.showDraft.value) rows.push({ kind: 'draft', key: 'draft' });
    return rows;
  });

  /**
   * The draft stays until its message is on the path: a new assistant entry of its turn, or one
   * with the same content (deltas, the entry and message_complete come on different streams).
   */
  readonly showDraft = computed(() => {
    const draft = this.draft.value;
    if (!draft) return false;
    const content = draft.complete ? JSON.stringify(draft.complete.content) : undefined;
    return !this.path.value
      .slice(-12)
      .some(
        (e) =>
          e.type === 'message' &&
          e.message.role === 'assistant' &&
          ((e.id.startsWith(`${draft.turn_id}:`) &&
            !draft.known.has(e.id) &&
            !draft.earlier.has(JSON.stringify(e.message.content))) ||
            JSON.stringify(e.message.content) === content),
      );
  });

  constructor(readonly sessionId: string) {}

  get treeView(): Tree {
    return this.tree;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.gapTimer);
  }

  /** Read everything (first open, and after a reconnection): the snapshot replaces the view. */
  async load(): Promise<void> {
    // Asked again while reading (workers coming back one by one): read once more afterwards.
    if (this.loadingNow) {
      this.loadAgain = true;
      return;
    }
    this.loadingNow = true;
    this.loadAgain = false;
    this.early = { agent: [], session: [] };
    try {
      const [tree, activity, settings] = await Promise.all([
        rpc.call('session::tree', { session_id: this.sessionId }),
        rpc.call('console.activity', { session_id: this.sessionId }),
        rpc.call('approval::get_settings', { session_id: this.sessionId }).catch(() => null),
      ]);
      if (this.closed) return;
      const next = emptyTree();
      for (const node of tree.nodes) addNode(next, node.entry);
      next.leaf = tree.leaf_id;
      batch(() => {
        this.tree = next;
        this.sessionSeq = tree.seq;
        this.leafSeq = tree.seq;
        this.turns.value = new Map(activity.turns.map((t) => [t.turn_id, t]));
        this.live.value = null;
        this.draft.value = null;
        this.calls.value = new Map();
        // The stored events are all there will be: gaps in them are numbers never used.
        clearTimeout(this.gapTimer);
        this.gapTimer = undefined;
        this.seen = new Set();
        this.reduceAll([...activity.live].sort((x, y) => x.seq - y.seq));
        this.agent = new SeqBuffer<AgentEvent>(activity.last_seq);
        this.mode.value = settings?.mode ?? null;
        this.error.value = null;
        this.loading.value = false;
        this.version.value++;
        const early = this.early;
        this.early = { agent: [], session: [] };
        for (const event of early.session) this.applySession(event);
        this.applyAgent(early.agent);
      });
    } catch (error) {
      if (this.closed) return;
      if (isCode(error, 'not_found') && (error as CallError).reason !== 'function_not_found') {
        this.error.value = 'This session does not exist (it may have been deleted).';
        this.deleted.value = true;
      } else this.error.value = error instanceof Error ? error.message : String(error);
      this.loading.value = false;
    } finally {
      this.loadingNow = false;
      if (this.loadAgain && !this.closed) void this.load();
    }
  }

  // --- live events ---------------------------------------------------------------------------

  onAgentEvent(event: AgentEvent): void {
    if (this.loadingNow) this.early.agent.push(event);
    else this.applyAgent([event]);
  }

  onSessionEvent(event: SessionEvent): void {
    if (this.loadingNow) this.early.session.push(event);
    else batch(() => this.applySession(event));
  }

  /**
   * Events in `seq` order, each once. Numbers the orchestrator reserved and never used leave
   * gaps that never fill, so a gap is waited out only briefly (GAP_MS, not restarted by later
   * arrivals) and then skipped; an event arriving after its gap was skipped is still applied,
   * except a delta (the complete message follows anyway). Lost events are not possible while
   * the socket is up: a reconnection re-reads everything.
   */
  private applyAgent(events: AgentEvent[]): void {
    const fresh = events.filter((e) => !this.seen.has(e.seq));
    const late = fresh.filter((e) => e.seq <= this.agent.last && e.type !== 'message_update');
    const ready = this.agent.push(fresh.filter((e) => e.seq > this.agent.last));
    if (late.length || ready.length) batch(() => this.reduceAll([...late, ...ready]));
    this.watchGap();
  }

  private watchGap(): void {
    if (!this.agent.gap) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      return;
    }
    this.gapTimer ??= setTimeout(() => {
      this.gapTimer = undefined;
      batch(() => this.reduceAll(this.agent.skipGap()));
      this.watchGap();
    }, GAP_MS);
  }

  private setCall(id: string, change: Partial<LiveCall>): void {
    const next = new Map(this.calls.value);
    next.set(id, { status: 'running', ...next.get(id), ...change });
    this.calls.value = next;
  }

  private reduceAll(events: AgentEvent[]): void {
    for (const event of events) {
      this.seen.add(event.seq);
      this.reduce(event);
    }
  }

  private reduce(event: AgentEvent): void {
    switch (event.type) {
      case 'turn_started':
        this.live.value = {
          turn_id: event.turn_id,
          state: 'provisioning',
          provider: event.provider,
          model: event.model,
        };
        this.draft.value = null;
        this.turns.value = new Map(this.turns.value).set(event.turn_id, {
          turn_id: event.turn_id,
          provider: event.provider,
          model: event.model,
          started_at: event.timestamp,
          first_seq: event.seq,
        });
        break;
      case 'turn_state_changed':
        this.live.value = { ...(this.live.value ?? { turn_id: event.turn_id }), state: event.state };
        this.waiting.value = null;
        break;
      case 'turn_waiting':
        this.waiting.value = { function_id: event.function_id, reason: event.reason, gives_up_at: event.gives_up_at };
        break;
      case 'message_update':
        this.waiting.value = null;
        this.applyDelta(event);
        break;
      case 'message_complete':
        this.draft.value = {
          ...(this.streamingDraft(event.turn_id) ?? this.freshDraft(event.turn_id)),
          complete: event.message,
        };
        break;
      case 'function_execution_start':
        this.setCall(event.function_call_id, { status: 'running', function_id: event.function_id, args: event.args });
        break;
      case 'function_execution_end':
        this.setCall(event.function_call_id, {
          status: event.is_error ? 'error' : 'done',
          function_id: event.function_id,
          ...(event.result !== undefined ? { result: event.result } : {}),
          duration_ms: event.duration_ms,
        });
        break;
      case 'approval_requested':
        this.setCall(event.function_call_id, { status: 'held', function_id: event.function_id, args: event.args });
        break;
      case 'approval_resolved':
        this.setCall(event.function_call_id, {
          status: event.decision === 'allow' ? 'approved' : event.decision === 'deny' ? 'denied' : 'aborted',
          ...(event.reason ? { reason: event.reason } : {}),
        });
        break;
      case 'turn_completed': {
        const summary = this.turns.value.get(event.turn_id);
        this.turns.value = new Map(this.turns.value).set(event.turn_id, {
          turn_id: event.turn_id,
          first_seq: summary?.first_seq ?? event.seq,
          ...summary,
          completed: {
            status: event.status,
            ...(event.reason ? { reason: event.reason } : {}),
            usage: event.usage,
            ...(event.cost_usd !== undefined ? { cost_usd: event.cost_usd } : {}),
            at: event.timestamp,
          },
        });
        this.live.value = null;
        this.waiting.value = null;
        this.queued.value = [];
        if (!this.draft.value?.complete) this.draft.value = null;
        announce(
          event.status === 'stopped'
            ? 'The assistant finished.'
            : event.status === 'aborted'
              ? 'The turn was stopped.'
              : `The turn failed${event.error ? `: ${event.error.message}` : ''}.`,
        );
        if (event.status === 'failed')
          toast(`Turn failed: ${event.error?.message ?? event.reason ?? 'unknown error'}`, 'error');
        break;
      }
      case 'budget_exceeded':
        toast(`Budget exceeded (${event.scope}): ${event.message}`, 'error');
        break;
      case 'compaction_done':
        toast(`Compacted: ${event.tokens_before} → ${event.tokens_after ?? '?'} tokens`, 'success');
        break;
    }
  }

  private assistantIds(): Set<string> {
    return new Set(
      this.path.value.filter((e) => e.type === 'message' && e.message.role === 'assistant').map((e) => e.id),
    );
  }

  /** The draft of this turn still being streamed (not yet complete), if any. */
  private streamingDraft(turn_id: string): Draft | undefined {
    const current = this.draft.value;
    return current && !current.complete && current.turn_id === turn_id ? current : undefined;
  }

  /**
   * A new message of a turn. A quick one arrives whole (no deltas) while the turn's previous,
   * complete draft may still wait for its entry: that entry is not this draft landing.
   */
  private freshDraft(turn_id: string): Draft {
    const current = this.draft.value?.turn_id === turn_id ? this.draft.value : undefined;
    const earlier = new Set(current?.earlier ?? []);
    if (current?.complete) earlier.add(JSON.stringify(current.complete.content));
    return { turn_id, blocks: [], known: this.assistantIds(), earlier };
  }

  private applyDelta(event: Extract<AgentEvent, { type: 'message_update' }>): void {
    const current = this.streamingDraft(event.turn_id);
    const draft: Draft = current ? { ...current, blocks: [...current.blocks] } : this.freshDraft(event.turn_id);
    const block = draft.blocks[event.content_index];
    draft.blocks[event.content_index] =
      block && block.kind === event.kind
        ? { ...block, text: block.text + event.delta }
        : {
            kind: event.kind,
            text: event.delta,
            ...(event.function_call_id ? { function_call_id: event.function_call_id } : {}),
          };
    if (event.kind === 'tool_call' && event.function_call_id)
      this.setCall(event.function_call_id, { status: 'streaming' });
    this.draft.value = draft;
  }

  private applySession(event: SessionEvent): void {
    if (event.session_id !== this.sessionId) return;
    if (event.type === 'session_deleted') {
      this.deleted.value = true;
      this.error.value = 'This session was deleted.';
      return;
    }
    if (event.seq <= this.sessionSeq && event.type !== 'entry_updated') return;
    this.sessionSeq = Math.max(this.sessionSeq, event.seq);
    switch (event.type) {
      case 'entry_appended':
        addNode(this.tree, event.entry);
        if (event.seq > this.leafSeq) {
          this.tree.leaf = event.entry_id;
          this.leafSeq = event.seq;
        }
        if (event.entry.type === 'message' && event.entry.message.role === 'user') {
          const text = event.entry.message.content;
          this.pendingUser.value = this.pendingUser.value.filter((p) => !sameText(text, p.text));
          if (event.entry_id.startsWith('inbox:')) this.queued.value = this.queued.value.slice(1);
        }
        break;
      case 'entry_updated': {
        const known = this.tree.nodes.get(event.entry_id);
        if (!known || known.revision < event.revision) addNode(this.tree, event.entry);
        break;
      }
      case 'leaf_changed':
        if (event.seq > this.leafSeq) {
          this.tree.leaf = event.leaf_id;
          this.leafSeq = event.seq;
        }
        break;
      default:
        return;
    }
    this.version.value++;
  }

  // --- actions -------------------------------------------------------------------------------

  /** Switch to another branch: its newest leaf becomes the session's active leaf. */
  async switchBranch(entryId: string): Promise<void> {
    const leaf = newestLeafUnder(this.tree, entryId);
    await this.setLeaf(leaf);
  }

  async setLeaf(entryId: string | null): Promise<void> {
    try {
      await rpc.call('session::set_leaf', { session_id: this.sessionId, entry_id: entryId });
    } catch (error) {
      reportError('Could not switch branch', error);
    }
  }

  async fork(entryId: string): Promise<void> {
    try {
      const { session } = await rpc.call('session::fork', { session_id: this.sessionId, entry_id: entryId });
      copyChoice(this.sessionId, session.session_id);
      toast('Forked into a new session', 'success');
      navigate(chatPath(session.session_id));
    } catch (error) {
      reportError('Fork failed', error);
    }
  }

  async stop(): Promise<void> {
    try {
      const { aborted } = await rpc.call('run::abort', { session_id: this.sessionId });
      if (!aborted) toast('No turn is running');
    } catch (error) {
      reportError('Could not stop the turn', error);
    }
  }

  async setMode(mode: ApprovalMode): Promise<void> {
    try {
      const settings = await rpc.call('approval::set_mode', { session_id: this.sessionId, mode });
      this.mode.value = settings.mode;
      toast(`Approval mode: ${settings.mode}`, 'success');
    } catch (error) {
      reportError('Could not set the approval mode', error);
    }
  }

  async compact(instructions?: string): Promise<void> {
    toast('Compacting…');
    try {
      const result = await rpc.call('compaction::compact_session', {
        session_id: this.sessionId,
        ...(instructions ? { instructions } : {}),
      });
      toast(
        result.status === 'compacted'
          ? `Compacted: ${result.tokens_before} → ${result.tokens_after} tokens`
          : `Compaction: ${result.status.replaceAll('_', ' ')} — ${result.message}`,
        result.status === 'compacted' ? 'success' : 'info',
      );
    } catch (error) {
      reportError('Compaction failed', error);
    }
  }

  async exportAs(format: 'markdown' | 'html' | 'jsonl'): Promise<void> {
    try {
      const out = await rpc.call('session::export', { session_id: this.sessionId, format });
      const ext = format === 'markdown' ? 'md' : format;
      download(`${this.sessionId}.${ext}`, out.content, out.mime_type);
    } catch (error) {
      reportError('Export failed', error);
    }
  }

  notePending(key: string, text: string): void {
    this.pendingUser.value = [...this.pendingUser.value, { key, text }];
  }

  dropPending(key: string): void {
    this.pendingUser.value = this.pendingUser.value.filter((p) => p.key !== key);
  }
}

function sameText(content: unknown, text: string): boolean {
  if (typeof content === 'string') return content === text;
  if (Array.isArray(content))
    return content.map((b: { type?: string; text?: string }) => (b.type === 'text' ? b.text : '')).join('\n') === text;
  return false;
}

function download(name: string, content: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// --- the open session ----------------------------------------------------------------------

export const current = signal<ChatView | null>(null);

export function openSession(sessionId: string | undefined): void {
  if (current.value?.sessionId === sessionId) return;
  current.value?.close();
  if (!sessionId) {
    current.value = null;
    rpc.follow([]);
    return;
  }
  const view = new ChatView(sessionId);
  current.value = view;
  rpc.follow([sessionId]);
  void view.load();
}

/** A new session's id (the page names it, so it can follow it before the first send). */
export const newSessionId = () => crypto.randomUUID();

/** The first line of the first message names a new session. */
const nameFrom = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 60);

/**
 * Send what the person typed. A new chat gets its session first (named from the text). While a
 * turn runs the harness merges the message into it (steering). The idempotency key makes a
 * retry after a dropped connection safe.
 */
export async function sendMessage(
  sessionId: string | undefined,
  text: string,
  branchFrom?: string | null,
): Promise<void> {
  const key = crypto.randomUUID();
  let target = sessionId;
  if (!target) {
    target = newSessionId();
    copyChoice(undefined, target);
    try {
      await rpc.call('session::ensure', { session_id: target, display_name: nameFrom(text) });
    } catch (error) {
      return reportError('Could not create the session', error);
    }
    navigate(chatPath(target), { replace: !sessionId && location.pathname === '/chat' });
    openSession(target);
  }
  const view = current.value?.sessionId === target ? current.value : undefined;
  if (branchFrom !== undefined && view) await view.setLeaf(branchFrom);
  const ref = chosenModel(target);
  view?.notePending(key, text);
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await rpc.call('harness::send', {
        session_id: target,
        text,
        idempotency_key: key,
        ...(ref ? { provider: ref.provider, model: ref.model } : {}),
      });
      if (result.merged && view) {
        view.dropPending(key);
        view.queued.value = [...view.queued.value, text];
        announce('Your message was queued for the running turn.');
      }
      return;
    } catch (error) {
      // The socket dropped: the same key makes the retry a no-op if the first send landed.
      if (attempt < 4 && isCode(error, 'unavailable')) {
        await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
        continue;
      }
      view?.dropPending(key);
      if (error instanceof CallError && /no provider\/model/.test(error.message))
        return toast('Choose a model first: press m (the harness has no default model).', 'error');
      return reportError('Send failed', error);
    }
  }
}
