import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { chatPath, navigate, online, toast } from '../state/app';
import { type ChatView, sendMessage } from '../state/chat';

export const SLASH_COMMANDS: Array<{ name: string; args?: string; help: string }> = [
  { name: '/compact', args: '[focus]', help: 'summarise the conversation so far (optional focus instructions)' },
  { name: '/export', args: 'md|html|jsonl', help: 'download the conversation' },
  { name: '/stop', help: 'stop the running turn' },
  { name: '/mode', args: 'manual|auto|full', help: 'how function calls are approved in this session' },
  { name: '/fork', help: 'a new session with this conversation' },
  { name: '/new', help: 'start a new chat' },
];

interface Props {
  view: ChatView | null;
  sessionId?: string | undefined;
  /** Set by "Edit" on a message: the next send branches from this parent. */
  branchFrom?: { parent: string | null; text: string } | undefined;
  onBranchDone(): void;
}

/**
 * Type and send; while a turn runs the same box steers it (the harness queues the message into
 * the live turn). Enter sends, Shift+Enter breaks the line, Esc twice stops the turn, `/` opens
 * the commands.
 */
export function Composer({ view, sessionId, branchFrom, onBranchDone }: Props) {
  const [text, setText] = useState('');
  const area = useRef<HTMLTextAreaElement>(null);
  const lastEsc = useRef(0);
  const live = view?.live.value;
  useLayoutEffect(() => {
    if (branchFrom) {
      setText(branchFrom.text);
      area.current?.focus();
    }
  }, [branchFrom]);
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 280)}px`;
  }, [text]);

  const submit = async () => {
    const value = text.trim();
    if (!value) return;
    if (value.startsWith('/') && (await runCommand(value, view))) {
      setText('');
      return;
    }
    setText('');
    const from = branchFrom?.parent;
    onBranchDone();
    await sendMessage(sessionId, value, from);
  };

  const suggestions =
    text.startsWith('/') && !text.includes(' ') ? SLASH_COMMANDS.filter((c) => c.name.startsWith(text)) : [];
  return (
    <div class="composer">
      {branchFrom && (
        <p class="composer-note small">
          Editing: sending starts a new branch beside the original message.{' '}
          <button
            type="button"
            class="btn btn-ghost btn-xs"
            onClick={() => {
              setText('');
              onBranchDone();
            }}
          >
            Cancel
          </button>
        </p>
      )}
      {view && view.queued.value.length > 0 && (
        <p class="composer-note small" aria-live="polite">
          Queued for the running turn: {view.queued.value.map((q) => `“${q.slice(0, 60)}”`).join(', ')}
        </p>
      )}
      {suggestions.length > 0 && (
        <ul class="slash-list" aria-label="Commands">
          {suggestions.map((c) => (
            <li key={c.name}>
              <code>{c.name}</code> {c.args && <span class="muted">{c.args}</span>} — {c.help}
            </li>
          ))}
        </ul>
      )}
      <form
        class="composer-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label class="sr-only" for="composer-input">
          {live ? 'Steer the running turn' : 'Message'}
        </label>
        <textarea
          id="composer-input"
          ref={area}
          class="composer-input"
          rows={1}
          value={text}
          placeholder={live ? 'Steer the running turn…  (Esc Esc stops it)' : 'Message the agent…  (/ for commands)'}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void submit();
            } else if (e.key === 'Escape') {
              const now = Date.now();
              if (live && now - lastEsc.current < 700) void view?.stop();
              lastEsc.current = now;
            }
          }}
          aria-keyshortcuts="i"
        />
        {live ? (
          <>
            <button type="submit" class="btn" disabled={!text.trim() || !online.value}>
              Steer
            </button>
            <button type="button" class="btn btn-danger" onClick={() => void view?.stop()} aria-label="Stop the turn">
              Stop
            </button>
          </>
        ) : (
          <button type="submit" class="btn btn-primary" disabled={!text.trim() || !online.value}>
            Send
          </button>
        )}
      </form>
    </div>
  );
}

/** A slash command; false when the text is not one (it is then sent as a message). */
async function runCommand(input: string, view: ChatView | null): Promise<boolean> {
  const [name, ...rest] = input.split(/\s+/);
  const arg = rest.join(' ').trim();
  const needsSession = () => {
    if (!view) toast('Start the conversation first.');
    return view;
  };
  switch (name) {
    case '/compact':
      await needsSession()?.compact(arg || undefined);
      return true;
    case '/export': {
      const format = arg === 'html' ? 'html' : arg === 'jsonl' ? 'jsonl' : 'markdown';
      await needsSession()?.exportAs(format);
      return true;
    }
    case '/stop':
      await needsSession()?.stop();
      return true;
    case '/mode':
      if (arg === 'manual' || arg === 'auto' || arg === 'full') await needsSession()?.setMode(arg);
      else toast('Usage: /mode manual|auto|full');
      return true;
    case '/fork': {
      const v = needsSession();
      const leaf = v?.path.value.at(-1);
      if (v && leaf) await v.fork(leaf.id);
      return true;
    }
    case '/new':
      navigate(chatPath());
      return true;
    default:
      return false;
  }
}
