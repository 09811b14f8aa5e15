import { useEffect } from 'preact/hooks';
import { Dialog } from './components/dialog';
import { rpc } from './lib/rpc';
import { ApprovalsDrawer, ApprovalsScreen } from './screens/approvals';
import { BudgetsScreen } from './screens/budgets';
import { ChatScreen } from './screens/chat';
import { ModelsScreen } from './screens/models';
import { TracesScreen } from './screens/traces';
import {
  announcement,
  approvalsOpen,
  chatPath,
  dismissToast,
  engine,
  navigate,
  route,
  shortcutsOpen,
  toasts,
} from './state/app';
import { pendingCount } from './state/approvals';
import { current } from './state/chat';

const SCREENS = [
  { key: 'c', path: '/chat', label: 'Chat', screen: 'chat' },
  { key: 'a', path: '/approvals', label: 'Approvals', screen: 'approvals' },
  { key: 'm', path: '/models', label: 'Models', screen: 'models' },
  { key: 't', path: '/traces', label: 'Traces', screen: 'traces' },
  { key: 'b', path: '/budgets', label: 'Budgets', screen: 'budgets' },
] as const;

export function App() {
  useGlobalKeys();
  const r = route.value;
  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar />
      <ConnectionBanner />
      {r.screen === 'chat' && <ChatScreen sessionId={r.sessionId} />}
      {r.screen === 'approvals' && <ApprovalsScreen />}
      {r.screen === 'models' && <ModelsScreen />}
      {r.screen === 'traces' && <TracesScreen traceId={r.traceId} session={r.session} turn={r.turn} />}
      {r.screen === 'budgets' && <BudgetsScreen />}
      <ApprovalsDrawer />
      <Toasts />
      <div class="sr-only" aria-live="polite" aria-atomic="true">
        {announcement.value}
      </div>
      {shortcutsOpen.value && <ShortcutsDialog />}
    </div>
  );
}

function TopBar() {
  const screen = route.value.screen;
  const count = pendingCount.value;
  const state = rpc.state.value;
  const connected = engine.value?.connected;
  return (
    <header class="topbar">
      <a
        class="brand"
        href="/chat"
        onClick={(e) => {
          e.preventDefault();
          navigate(chatPath(current.value?.sessionId));
        }}
      >
        <span class="brand-mark" aria-hidden="true">
          iii
        </span>{' '}
        harness
      </a>
      <nav class="tabs" aria-label="Screens">
        {SCREENS.map((s) => (
          <a
            key={s.screen}
            href={s.path}
            class={screen === s.screen ? 'tab active' : 'tab'}
            aria-current={screen === s.screen ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate(s.screen === 'chat' ? chatPath(current.value?.sessionId) : s.path);
            }}
          >
            {s.label}
            {s.screen === 'approvals' && count > 0 && (
              <span class="badge badge-warn count">
                {count}
                <span class="sr-only"> pending</span>
              </span>
            )}
          </a>
        ))}
      </nav>
      <div class="topbar-tools">
        <span
          class={`conn ${state === 'open' && connected ? 'ok' : 'bad'}`}
          role="status"
          title={engine.value?.url ?? ''}
        >
          {state !== 'open' ? 'console offline' : connected ? 'engine connected' : 'engine offline'}
        </span>
        <button
          type="button"
          class={count > 0 ? 'btn btn-warn' : 'btn'}
          onClick={() => (approvalsOpen.value = !approvalsOpen.value)}
          aria-expanded={approvalsOpen.value}
          aria-keyshortcuts="a"
        >
          {count > 0 ? `${count} held` : 'No holds'}
        </button>
        <button
          type="button"
          class="btn btn-ghost"
          onClick={() => (shortcutsOpen.value = true)}
          aria-label="Keyboard shortcuts"
          aria-keyshortcuts="?"
        >
          ?
        </button>
      </div>
    </header>
  );
}

function ConnectionBanner() {
  const state = rpc.state.value;
  const eng = engine.value;
  if (state === 'open' && eng?.connected) return null;
  const text =
    state !== 'open'
      ? 'Reconnecting to the console server…'
      : `The console lost the engine at ${eng?.url ?? '?'}; reconnecting. What is on screen stays; it is re-read when the engine is back.`;
  return (
    <div class="banner" role="status">
      {text}
    </div>
  );
}

function Toasts() {
  return (
    <div class="toasts" aria-live="polite">
      {toasts.value.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button type="button" class="btn btn-ghost btn-xs" onClick={() => dismissToast(t.id)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

const SHORTCUTS: Array<[string, string]> = [
  ['g c / g a / g m / g t / g b', 'Chat, Approvals, Models, Traces, Budgets'],
  ['n', 'New chat'],
  ['/', 'Search sessions'],
  ['i', 'Write a message'],
  ['m', 'Choose the model'],
  ['a', 'Open or close the approvals panel'],
  ['j / k', 'Next / previous held call (in approvals)'],
  ['y / a / d', 'Allow once / always allow / deny the focused held call'],
  ['Enter / Shift+Enter', 'Send / new line'],
  ['Esc Esc', 'Stop the running turn (in the message box)'],
  ['F2 / Delete', 'Rename / delete the focused session'],
  ['?', 'This list'],
];

function ShortcutsDialog() {
  return (
    <Dialog title="Keyboard shortcuts" onClose={() => (shortcutsOpen.value = false)}>
      <table class="table compact">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <th scope="row">
                <kbd>{keys}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="dialog-actions">
        <button type="button" class="btn btn-primary" onClick={() => (shortcutsOpen.value = false)} autofocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}

const typing = (target: EventTarget | null) =>
  target instanceof HTMLInputElement ||
  target instanceof HTMLTextAreaElement ||
  target instanceof HTMLSelectElement ||
  (target instanceof HTMLElement && target.isContentEditable);

/** One-key shortcuts when no field has focus; `g` then a letter to change screens. */
function useGlobalKeys() {
  useEffect(() => {
    let g = 0;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'Escape' && approvalsOpen.value && !document.querySelector('dialog[open]')) {
        approvalsOpen.value = false;
        return;
      }
      if (typing(e.target) || document.querySelector('dialog[open]')) return;
      // A focused approval card takes y / a / d itself.
      if ((e.target as HTMLElement | null)?.closest?.('.approval-card') && ['y', 'a', 'd', 'j', 'k'].includes(e.key))
        return;
      if (Date.now() - g < 1_000) {
        g = 0;
        const screen = SCREENS.find((s) => s.key === e.key);
        if (screen) {
          e.preventDefault();
          navigate(screen.screen === 'chat' ? chatPath(current.value?.sessionId) : screen.path);
        }
        return;
      }
      const focus = (selector: string) => {
        const el = document.querySelector<HTMLElement>(selector);
        if (el) {
          e.preventDefault();
          el.focus();
        }
      };
      switch (e.key) {
        case 'g':
          g = Date.now();
          break;
        case 'n':
          e.preventDefault();
          navigate(chatPath());
          setTimeout(() => document.getElementById('composer-input')?.focus(), 0);
          break;
        case '/':
          if (route.value.screen !== 'chat') navigate(chatPath(current.value?.sessionId));
          setTimeout(() => document.getElementById('session-search')?.focus(), 0);
          e.preventDefault();
          break;
        case 'i':
          focus('#composer-input');
          break;
        case 'm':
          document.querySelector<HTMLButtonElement>('.model-button')?.click();
          e.preventDefault();
          break;
        case 'a':
          e.preventDefault();
          approvalsOpen.value = !approvalsOpen.value;
          break;
        case '?':
          e.preventDefault();
          shortcutsOpen.value = true;
          break;
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
