import type { ApprovalMode, SessionEntry } from '@iii-harness/types';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Composer } from '../components/composer';
import { stateLabel, timeFromNow, tokens, usd } from '../components/format';
import { MessageRow } from '../components/message-row';
import { ModelPicker } from '../components/model-picker';
import { SessionList } from '../components/session-list';
import { VirtualList } from '../components/virtual-list';
import { chatPath, features, navigate } from '../state/app';
import { type ChatView, current, openSession } from '../state/chat';
import { costOf } from '../state/models';
import { sessions, titleOf } from '../state/sessions';
import type { Row } from '../state/transcript';

export function ChatScreen({ sessionId }: { sessionId?: string | undefined }) {
  useEffect(() => openSession(sessionId), [sessionId]);
  const view = current.value;
  return (
    <div class="chat-layout">
      <SessionList activeId={sessionId} />
      <main class="chat-main" id="main" aria-label="Conversation">
        {sessionId && view ? <Conversation view={view} /> : <NewChat />}
      </main>
    </div>
  );
}

function NewChat() {
  return (
    <div class="chat-pane">
      <header class="chat-head">
        <h1 class="chat-title">New chat</h1>
        <div class="chat-head-tools">
          <ModelPicker />
        </div>
      </header>
      <div class="chat-empty">
        <div class="hero">
          <h2>What should the agent do?</h2>
          <p class="muted">
            Every function call passes the policy; calls it does not allow wait for you in <kbd>a</kbd> approvals.
          </p>
          <p class="muted small">
            <kbd>n</kbd> new chat · <kbd>/</kbd> search sessions · <kbd>m</kbd> model · <kbd>?</kbd> all shortcuts
          </p>
        </div>
      </div>
      <Composer view={null} onBranchDone={() => undefined} />
    </div>
  );
}

const MODES: ApprovalMode[] = ['manual', 'auto', 'full'];

function Conversation({ view }: { view: ChatView }) {
  const [branchFrom, setBranchFrom] = useState<{ parent: string | null; text: string } | undefined>();
  useEffect(() => {
    if (view.deleted.value) navigate(chatPath(), { replace: true });
  }, [view.deleted.value]);
  const session = sessions.value.find((s) => s.session_id === view.sessionId);
  const title = session ? titleOf(session) : 'Conversation';
  const live = view.live.value;
  const rows = view.rows.value;
  const lastTurn = [...view.turns.value.values()].at(-1);
  const lastUsed =
    lastTurn?.provider && lastTurn.model ? { provider: lastTurn.provider, model: lastTurn.model } : undefined;
  const onEdit = useCallback(
    (entry: SessionEntry, text: string) => setBranchFrom({ parent: entry.parent_id, text }),
    [],
  );

  return (
    <div class="chat-pane">
      <header class="chat-head">
        <h1 class="chat-title" title={view.sessionId}>
          {title}
        </h1>
        <div class="chat-head-tools">
          <span class={live ? 'turn-state live' : 'turn-state'} aria-live="polite">
            {view.waiting.value
              ? `Waiting for ${view.waiting.value.function_id} (gives up ${timeFromNow(view.waiting.value.gives_up_at)})`
              : live
                ? stateLabel(live.state)
                : 'Idle'}
          </span>
          <ModelPicker sessionId={view.sessionId} lastUsed={lastUsed} />
          <label class="select-label">
            <span class="muted small">Approvals</span>
            <select
              class="select"
              value={view.mode.value ?? ''}
              disabled={!features.value?.approvals}
              onChange={(e) => void view.setMode(e.currentTarget.value as ApprovalMode)}
              title="manual: hold what the policy does not allow · auto: allow unless denied · full: allow all but the kernel list"
            >
              {!view.mode.value && <option value="">—</option>}
              {MODES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <SessionMenu view={view} />
        </div>
      </header>
      {view.error.value ? (
        <div class="chat-empty" role="alert">
          <p>{view.error.value}</p>
          <button type="button" class="btn" onClick={() => void view.load()}>
            Try again
          </button>
        </div>
      ) : view.loading.value ? (
        <div class="chat-empty" aria-busy="true">
          <p class="muted">Loading the conversation…</p>
        </div>
      ) : rows.length === 0 ? (
        <div class="chat-empty">
          <p class="muted">No messages yet.</p>
        </div>
      ) : (
        <VirtualList<Row>
          key={view.sessionId}
          items={rows}
          keyOf={(row) => row.key}
          render={(row) => <MessageRow view={view} row={row} onEdit={onEdit} />}
          estimate={140}
          stickToEnd
          class="transcript"
          label="Transcript"
        />
      )}
      <StatusLine view={view} />
      <Composer
        view={view}
        sessionId={view.sessionId}
        branchFrom={branchFrom}
        onBranchDone={() => setBranchFrom(undefined)}
      />
    </div>
  );
}

/** The session's totals on the path shown: every answer's tokens, and their cost where priced. */
function StatusLine({ view }: { view: ChatView }) {
  let input = 0;
  let output = 0;
  let cost = 0;
  let unpriced = 0;
  for (const entry of view.path.value) {
    if (entry.type !== 'message' || entry.message.role !== 'assistant') continue;
    const m = entry.message;
    input += m.usage.input_tokens;
    output += m.usage.output_tokens;
    const c = costOf(m.usage, { provider: m.provider, model: m.model });
    if (c === undefined) unpriced++;
    else cost += c;
  }
  const turns = view.turns.value.size;
  return (
    <div class="status-line small muted">
      <span>
        {turns} turn{turns === 1 ? '' : 's'} · {tokens(input)} in · {tokens(output)} out · {usd(cost)}
        {unpriced ? ` (+${unpriced} unpriced)` : ''}
      </span>
      <span class="status-session" title="Session id">
        {view.sessionId}
      </span>
    </div>
  );
}

function SessionMenu({ view }: { view: ChatView }) {
  return (
    <details class="menu">
      <summary class="btn" aria-label="Session actions">
        ⋯
      </summary>
      <fieldset class="menu-items">
        <legend class="sr-only">Session actions</legend>
        <button
          type="button"
          class="btn btn-ghost"
          disabled={!features.value?.compaction}
          onClick={() => void view.compact()}
        >
          Compact now
        </button>
        <button type="button" class="btn btn-ghost" onClick={() => void view.exportAs('markdown')}>
          Export Markdown
        </button>
        <button type="button" class="btn btn-ghost" onClick={() => void view.exportAs('html')}>
          Export HTML
        </button>
        <button type="button" class="btn btn-ghost" onClick={() => void view.exportAs('jsonl')}>
          Export JSONL
        </button>
        <button
          type="button"
          class="btn btn-ghost"
          onClick={() => navigate(`/traces?session=${encodeURIComponent(view.sessionId)}`)}
        >
          Traces of this session
        </button>
      </fieldset>
    </details>
  );
}
