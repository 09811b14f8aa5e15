import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { chatPath, navigate } from '../state/app';
import { decide, deciding, explain, explanations, type Hold, holdKey, reasonText } from '../state/approvals';
import { sessions, titleOf } from '../state/sessions';
import { timeAgo } from './format';
import { JsonView } from './json';

interface ActionsProps {
  hold: Hold;
  denying: boolean;
  setDenying(on: boolean): void;
  shortcuts?: boolean;
}

/** Allow once, always allow (for the rest of the session), or deny with a reason the model reads. */
export function ApprovalActions({ hold, denying, setDenying, shortcuts = false }: ActionsProps) {
  const [reason, setReason] = useState('');
  const busy = deciding.value.has(holdKey(hold));
  const input = useRef<HTMLInputElement>(null);
  // Layout effect: focus moves before the next key arrives, so typing goes into the reason.
  useLayoutEffect(() => {
    if (denying) input.current?.focus();
  }, [denying]);
  const id = `deny-${holdKey(hold).replace(/[^A-Za-z0-9_-]/g, '_')}`;

  if (denying)
    return (
      <form
        class="approval-deny"
        onSubmit={(e) => {
          e.preventDefault();
          void decide(hold, { decision: 'deny', ...(reason.trim() ? { reason: reason.trim() } : {}) });
        }}
      >
        <label class="sr-only" for={id}>
          Reason for denying {hold.function_id}
        </label>
        <input
          id={id}
          ref={input}
          class="input"
          placeholder="Why? (the model reads this)"
          value={reason}
          maxLength={2000}
          onInput={(e) => setReason(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setDenying(false);
            }
          }}
        />
        <button type="submit" class="btn btn-danger" disabled={busy}>
          Deny
        </button>
        <button type="button" class="btn btn-ghost" onClick={() => setDenying(false)}>
          Cancel
        </button>
      </form>
    );
  return (
    <fieldset class="approval-actions">
      <legend class="sr-only">Decide {hold.function_id}</legend>
      <button
        type="button"
        class="btn btn-primary"
        disabled={busy}
        onClick={() => void decide(hold, { decision: 'allow' })}
      >
        Allow once{shortcuts && <kbd>y</kbd>}
      </button>
      <button
        type="button"
        class="btn"
        disabled={busy}
        onClick={() => void decide(hold, { decision: 'allow', always: true })}
        title={`Allow ${hold.function_id} without asking again in this session`}
      >
        Always allow{shortcuts && <kbd>a</kbd>}
      </button>
      <button type="button" class="btn btn-danger-ghost" disabled={busy} onClick={() => setDenying(true)}>
        Deny…{shortcuts && <kbd>d</kbd>}
      </button>
    </fieldset>
  );
}

/** Why the call was held, read from the policy when first shown. */
export function HeldBecause({ hold }: { hold: Hold }) {
  const key = holdKey(hold);
  useEffect(() => {
    void explain(hold);
  }, [key]);
  return <p class="held-why">{reasonText(hold, explanations.value.get(key))}</p>;
}

/**
 * A held call as a card: what wants to run, with which arguments, why it was held, and the
 * decision buttons. With focus on the card, `y` allows once, `a` always allows, `d` denies.
 */
export function ApprovalCard({ hold, focusRef }: { hold: Hold; focusRef?: (el: HTMLElement | null) => void }) {
  const [denying, setDenying] = useState(false);
  const session = sessions.value.find((s) => s.session_id === hold.session_id);
  const title = session ? titleOf(session) : hold.session_id;
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'y') void decide(hold, { decision: 'allow' });
    else if (e.key === 'a') void decide(hold, { decision: 'allow', always: true });
    else if (e.key === 'd') setDenying(true);
    else return;
    e.preventDefault();
  };
  return (
    <article
      class="approval-card"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the card takes focus so y / a / d decide the call it shows
      tabIndex={0}
      ref={focusRef}
      onKeyDown={onKeyDown}
      aria-label={`${hold.function_id} waits for approval in ${title}. Press y to allow once, a to always allow, d to deny.`}
      data-hold={holdKey(hold)}
    >
      <header class="approval-head">
        <span class="badge badge-warn">held</span>
        <code class="fn-id">{hold.function_id}</code>
        <span class="muted small">{timeAgo(hold.requested_at)}</span>
      </header>
      <p class="small">
        in{' '}
        <a
          href={chatPath(hold.session_id)}
          onClick={(e) => {
            e.preventDefault();
            navigate(chatPath(hold.session_id));
          }}
        >
          {title}
        </a>
      </p>
      <HeldBecause hold={hold} />
      <JsonView value={hold.args} label="Arguments" />
      <ApprovalActions hold={hold} denying={denying} setDenying={setDenying} shortcuts />
    </article>
  );
}
