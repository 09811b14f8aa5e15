import { useEffect, useRef } from 'preact/hooks';
import { ApprovalCard } from '../components/approval-actions';
import { approvalsOpen, features } from '../state/app';
import { holdKey, pending } from '../state/approvals';

/** `j` / `k` move between cards (each card takes y / a / d). */
function useCardNavigation() {
  const cards = useRef(new Map<string, HTMLElement>());
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'j' && e.key !== 'k') return;
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
    const list = [...cards.current.values()].filter((el) => el.isConnected);
    const at = list.indexOf(document.activeElement as HTMLElement);
    const next = e.key === 'j' ? list[Math.min(list.length - 1, at + 1)] : list[Math.max(0, at - 1)];
    next?.focus();
    e.preventDefault();
  };
  const refFor = (key: string) => (el: HTMLElement | null) => {
    if (el) cards.current.set(key, el);
    else cards.current.delete(key);
  };
  return { onKeyDown, refFor, first: () => [...cards.current.values()][0] };
}

function HoldList({ autofocus }: { autofocus?: boolean }) {
  const nav = useCardNavigation();
  const holds = pending.value;
  useEffect(() => {
    if (autofocus) nav.first()?.focus();
  }, [autofocus]);
  if (!features.value?.approvals && holds.length === 0)
    return <p class="muted">The approval gate is not running, so nothing can be held.</p>;
  if (holds.length === 0) return <p class="muted">Nothing is waiting for you.</p>;
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: j/k move focus between the cards inside
    <div class="hold-list" onKeyDown={nav.onKeyDown}>
      {holds.map((hold) => (
        <ApprovalCard key={holdKey(hold)} hold={hold} focusRef={nav.refFor(holdKey(hold))} />
      ))}
    </div>
  );
}

export function ApprovalsScreen() {
  return (
    <main class="page" id="main">
      <header class="page-head">
        <h1>Approvals</h1>
        <p class="muted">
          Calls the policy did not allow, waiting for a person. <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>y</kbd> allow once,{' '}
          <kbd>a</kbd> always allow, <kbd>d</kbd> deny. They survive reloads and restarts.
        </p>
      </header>
      <HoldList autofocus />
    </main>
  );
}

/** The same list as a drawer over any screen (`a` toggles it). */
export function ApprovalsDrawer() {
  if (!approvalsOpen.value) return null;
  return (
    <aside class="drawer" aria-label="Pending approvals">
      <header class="drawer-head">
        <h2>Approvals ({pending.value.length})</h2>
        <button type="button" class="btn btn-ghost" onClick={() => (approvalsOpen.value = false)}>
          Close <kbd>Esc</kbd>
        </button>
      </header>
      <HoldList autofocus />
    </aside>
  );
}
