import { useState } from 'preact/hooks';
import { CopyButton } from './copy';

const COLLAPSE_LINES = 14;

/** Pretty JSON, collapsed when long, with copy. */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  const text = typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? 'null');
  const lines = text.split('\n').length;
  const [open, setOpen] = useState(lines <= COLLAPSE_LINES);
  return (
    <div class="json">
      <div class="json-head">
        <span class="json-label">{label}</span>
        <span class="json-tools">
          {lines > COLLAPSE_LINES && (
            <button type="button" class="btn btn-ghost btn-xs" aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? 'Collapse' : `Show all ${lines} lines`}
            </button>
          )}
          <CopyButton text={text} label={`Copy ${label.toLowerCase()}`} />
        </span>
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable block must take focus to scroll by keyboard (WCAG 2.1.1) */}
      <pre class={open ? 'json-body' : 'json-body json-clipped'} tabIndex={0}>
        {open ? text : text.split('\n').slice(0, COLLAPSE_LINES).join('\n')}
      </pre>
    </div>
  );
}
