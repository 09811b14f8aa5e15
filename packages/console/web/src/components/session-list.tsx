import { useRef, useState } from 'preact/hooks';
import { chatPath, navigate } from '../state/app';
import { pending } from '../state/approvals';
import {
  deleteSession,
  liveTurns,
  renameSession,
  type SessionRow,
  search,
  sessionsLoaded,
  titleOf,
  visibleSessions,
} from '../state/sessions';
import { ConfirmDialog } from './dialog';
import { stateLabel, timeAgo } from './format';

/**
 * The sessions, newest first: search (`/`), open, rename (F2 or double-click), delete (with a
 * confirmation). A running turn shows as a pulsing dot; held calls as a count.
 */
export function SessionList({ activeId }: { activeId?: string | undefined }) {
  const [renaming, setRenaming] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<SessionRow | null>(null);
  const list = visibleSessions.value;
  const holds = new Map<string, number>();
  for (const h of pending.value) holds.set(h.session_id, (holds.get(h.session_id) ?? 0) + 1);

  return (
    <nav class="sessions" aria-label="Sessions">
      <div class="sessions-head">
        <button
          type="button"
          class="btn btn-primary btn-block"
          onClick={() => navigate(chatPath())}
          aria-keyshortcuts="n"
        >
          New chat <kbd>n</kbd>
        </button>
        <label class="sr-only" for="session-search">
          Search sessions
        </label>
        <input
          id="session-search"
          class="input"
          type="search"
          placeholder="Search  /"
          value={search.value}
          onInput={(e) => {
            search.value = e.currentTarget.value;
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              search.value = '';
              e.currentTarget.blur();
            }
            if (e.key === 'Enter' && list[0]) navigate(chatPath(list[0].session_id));
          }}
        />
      </div>
      <ul class="session-items">
        {!sessionsLoaded.value && <li class="muted small pad">Loading…</li>}
        {sessionsLoaded.value && list.length === 0 && (
          <li class="muted small pad">{search.value ? 'No session matches.' : 'No sessions yet.'}</li>
        )}
        {list.map((s) => (
          <SessionItem
            key={s.session_id}
            session={s}
            active={s.session_id === activeId}
            live={liveTurns.value.get(s.session_id)?.state}
            holds={holds.get(s.session_id) ?? 0}
            renaming={renaming === s.session_id}
            onRename={() => setRenaming(s.session_id)}
            onRenamed={() => setRenaming(null)}
            onDelete={() => setConfirming(s)}
          />
        ))}
      </ul>
      {confirming && (
        <ConfirmDialog
          title="Delete this session?"
          confirm="Delete"
          danger
          onCancel={() => setConfirming(null)}
          onConfirm={async () => {
            const id = confirming.session_id;
            setConfirming(null);
            if ((await deleteSession(id)) && id === activeId) navigate(chatPath());
          }}
        >
          <p>
            “{titleOf(confirming)}” and its {confirming.entry_count} entries (every branch) will be deleted. This cannot
            be undone.
          </p>
        </ConfirmDialog>
      )}
    </nav>
  );
}

function SessionItem({
  session,
  active,
  live,
  holds,
  renaming,
  onRename,
  onRenamed,
  onDelete,
}: {
  session: SessionRow;
  active: boolean;
  live?: string | undefined;
  holds: number;
  renaming: boolean;
  onRename(): void;
  onRenamed(): void;
  onDelete(): void;
}) {
  const title = titleOf(session);
  const input = useRef<HTMLInputElement>(null);
  if (renaming)
    return (
      <li class="session-item active">
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            await renameSession(session.session_id, input.current?.value ?? '');
            onRenamed();
          }}
        >
          <label class="sr-only" for={`rename-${session.session_id}`}>
            New title
          </label>
          <input
            id={`rename-${session.session_id}`}
            ref={(el) => {
              input.current = el;
              el?.focus();
            }}
            class="input"
            defaultValue={title}
            maxLength={200}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.stopPropagation();
                onRenamed();
              }
            }}
            onBlur={onRenamed}
          />
        </form>
      </li>
    );
  const href = chatPath(session.session_id);
  return (
    <li class={active ? 'session-item active' : 'session-item'}>
      <a
        href={href}
        class="session-link"
        aria-current={active ? 'page' : undefined}
        onClick={(e) => {
          e.preventDefault();
          navigate(href);
        }}
        onDblClick={onRename}
        onKeyDown={(e) => {
          if (e.key === 'F2') {
            e.preventDefault();
            onRename();
          } else if (e.key === 'Delete') {
            e.preventDefault();
            onDelete();
          }
        }}
      >
        <span class="session-title">
          {live && <span class="live-dot" title={stateLabel(live)} aria-label={stateLabel(live)} role="img" />}
          {title}
        </span>
        <span class="session-meta">
          {holds > 0 && <span class="badge badge-warn">{holds} held</span>}
          <span class="muted small">{timeAgo(session.updated_at)}</span>
        </span>
      </a>
      <span class="session-actions">
        <button type="button" class="btn btn-ghost btn-xs" onClick={onRename} aria-label={`Rename ${title}`}>
          Rename
        </button>
        <button type="button" class="btn btn-ghost btn-xs" onClick={onDelete} aria-label={`Delete ${title}`}>
          Delete
        </button>
      </span>
    </li>
  );
}
