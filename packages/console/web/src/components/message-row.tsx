import type {
  AssistantMessage,
  Citation,
  FunctionResultMessage,
  ServerToolResultBlock,
  ServerToolUseBlock,
  SessionEntry,
  Usage,
} from '@iii-harness/types';
import { memo } from 'preact/compat';
import type { TurnSummary } from '../../../src/protocol';
import { features, navigate } from '../state/app';
import type { ChatView, DraftBlock } from '../state/chat';
import { costOf } from '../state/models';
import { type Row, siblingsOf } from '../state/transcript';
import { CopyButton } from './copy';
import { tokens, usd } from './format';
import { FunctionCard } from './function-card';
import { JsonView } from './json';
import { Markdown } from './markdown';

interface RowProps {
  view: ChatView;
  row: Row;
  onEdit(entry: SessionEntry, text: string): void;
}

/**
 * One row of the transcript (a message, a notice, the streaming draft). Memoised: scrolling
 * re-renders the list, and a row whose entry did not change has nothing to redo.
 */
export const MessageRow = memo(function MessageRow({ view, row, onEdit }: RowProps) {
  switch (row.kind) {
    case 'user':
      return (
        <article class="msg msg-user" aria-label="You">
          <div class="msg-who">You</div>
          <div class="msg-body msg-user-body">
            <p class="pre-wrap">{row.text}</p>
          </div>
          <MessageTools view={view} entry={row.entry} text={row.text} onEdit={() => onEdit(row.entry, row.text)} />
        </article>
      );
    case 'assistant':
      return <AssistantRow view={view} entry={row.entry} message={row.message} results={row.results} turn={row.turn} />;
    case 'result':
      return <OrphanResult view={view} entry={row.entry} message={row.message} />;
    case 'pending':
      return (
        <article class="msg msg-user msg-pending" aria-label="You (sending)">
          <div class="msg-who">You</div>
          <div class="msg-body msg-user-body">
            <p class="pre-wrap">{row.text}</p>
          </div>
          <div class="msg-tools muted small">sending…</div>
        </article>
      );
    case 'draft':
      return <DraftRow view={view} />;
    case 'entry':
      return <EntryRow entry={row.entry} />;
  }
});

function AssistantRow({
  view,
  entry,
  message,
  results,
  turn,
}: {
  view: ChatView;
  entry: SessionEntry;
  message: AssistantMessage;
  results: ReadonlyMap<string, FunctionResultMessage>;
  turn?: TurnSummary | undefined;
}) {
  const text = message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n\n');
  const calls = view.calls.value;
  return (
    <article class="msg msg-assistant" aria-label="Assistant">
      <div class="msg-who">
        Assistant <span class="muted small">{message.model}</span>
      </div>
      <div class="msg-body">
        {message.content.map((block, i) => {
          switch (block.type) {
            case 'text':
              return (
                <div key={i}>
                  <Markdown text={block.text} />
                  {block.citations?.length ? <Citations citations={block.citations} /> : null}
                </div>
              );
            case 'thinking':
              return <Thinking key={i} text={block.thinking} redacted={block.redacted} />;
            case 'function_call':
              return (
                <FunctionCard
                  key={block.id}
                  sessionId={view.sessionId}
                  call={block}
                  result={results.get(block.id)}
                  live={calls.get(block.id)}
                />
              );
            case 'server_tool_use':
              return (
                <ServerToolCard
                  key={block.id}
                  use={block}
                  result={message.content.find(
                    (b): b is ServerToolResultBlock => b.type === 'server_tool_result' && b.tool_use_id === block.id,
                  )}
                />
              );
            default:
              // A vendor tool result shows on its use's card.
              return null;
          }
        })}
        {message.stop_reason === 'refusal' && (
          <p class="notice notice-error">
            The model declined{message.stop_details?.category ? ` (${message.stop_details.category})` : ''}
            {message.stop_details?.explanation ? `: ${message.stop_details.explanation}` : '.'}
          </p>
        )}
        {message.stop_reason === 'aborted' && (
          <p class="notice">Stopped{message.error_message ? `: ${message.error_message}` : ''}.</p>
        )}
        {message.stop_reason === 'error' && (
          <p class="notice notice-error">Error: {message.error_message ?? 'unknown'}</p>
        )}
        {message.stop_reason === 'length' && <p class="notice">The answer hit the output limit.</p>}
      </div>
      <footer class="msg-foot">
        <UsageLine usage={message.usage} provider={message.provider} model={message.model} />
        {turn?.completed && <TurnLine view={view} turn={turn} />}
      </footer>
      <MessageTools view={view} entry={entry} text={text} traceOf={entry.id.split(':')[0]} />
    </article>
  );
}

function UsageLine({ usage, provider, model }: { usage: Usage; provider: string; model: string }) {
  const cost = costOf(usage, { provider, model });
  return (
    <span class="usage" title="This answer's tokens and cost">
      {tokens(usage.input_tokens)} in · {tokens(usage.output_tokens)} out
      {usage.cache_read_tokens ? ` · ${tokens(usage.cache_read_tokens)} cached` : ''}
      {cost !== undefined ? ` · ${usd(cost)}` : ''}
    </span>
  );
}

function TurnLine({ view, turn }: { view: ChatView; turn: TurnSummary }) {
  const done = turn.completed!;
  const cost =
    done.cost_usd ??
    (turn.provider && turn.model ? costOf(done.usage, { provider: turn.provider, model: turn.model }) : undefined);
  const href = `/traces?session=${encodeURIComponent(view.sessionId)}&turn=${encodeURIComponent(turn.turn_id)}`;
  return (
    <span class="turn-line">
      <span class={`badge badge-${done.status === 'stopped' ? 'ok' : done.status === 'aborted' ? 'warn' : 'err'}`}>
        turn {done.status}
        {done.reason && done.reason !== 'completed' ? ` · ${done.reason.replaceAll('_', ' ')}` : ''}
      </span>
      <span title="The whole turn: every model call">
        {tokens(done.usage.input_tokens)} in · {tokens(done.usage.output_tokens)} out · {usd(cost)}
      </span>
      {features.value?.traces && (
        <a
          href={href}
          onClick={(e) => {
            e.preventDefault();
            navigate(href);
          }}
        >
          Trace
        </a>
      )}
    </span>
  );
}

/** Copy, fork, branch; and the switcher when the entry has siblings (other branches). */
function MessageTools({
  view,
  entry,
  text,
  onEdit,
  traceOf,
}: {
  view: ChatView;
  entry: SessionEntry;
  text: string;
  onEdit?: () => void;
  /** The turn whose trace this message belongs to (assistant messages). */
  traceOf?: string | undefined;
}) {
  void view.version.value;
  const siblings = siblingsOf(view.treeView, entry);
  const index = siblings.indexOf(entry.id);
  return (
    <div class="msg-tools">
      {/* A row not (yet) in the tree it is shown with, e.g. an entry that has not landed: no switch. */}
      {siblings.length > 1 && index >= 0 && (
        <fieldset class="branch-switch">
          <legend class="sr-only">Branches</legend>
          <button
            type="button"
            class="btn btn-ghost btn-xs"
            disabled={index <= 0}
            aria-label="Previous branch"
            onClick={() => void view.switchBranch(siblings[index - 1]!)}
          >
            ‹
          </button>
          <span class="small" aria-live="polite">
            branch {index + 1}/{siblings.length}
          </span>
          <button
            type="button"
            class="btn btn-ghost btn-xs"
            disabled={index >= siblings.length - 1}
            aria-label="Next branch"
            onClick={() => void view.switchBranch(siblings[index + 1]!)}
          >
            ›
          </button>
        </fieldset>
      )}
      {text && <CopyButton text={text} label="Copy message" />}
      {onEdit && (
        <button type="button" class="btn btn-ghost btn-xs" onClick={onEdit} title="Edit and send as a new branch">
          Edit
        </button>
      )}
      <button
        type="button"
        class="btn btn-ghost btn-xs"
        onClick={() => void view.fork(entry.id)}
        title="A new session with the conversation up to here"
      >
        Fork
      </button>
      {traceOf && features.value?.traces && view.turns.value.has(traceOf) && (
        <button
          type="button"
          class="btn btn-ghost btn-xs"
          onClick={() =>
            navigate(`/traces?session=${encodeURIComponent(view.sessionId)}&turn=${encodeURIComponent(traceOf)}`)
          }
          title="This turn's trace"
        >
          Trace
        </button>
      )}
    </div>
  );
}

function Thinking({ text, redacted }: { text: string; redacted?: boolean | undefined }) {
  if (redacted) return <p class="thinking-redacted muted small">Reasoning (encrypted by the vendor)</p>;
  return (
    <details class="thinking">
      <summary>Thinking</summary>
      <div class="thinking-body pre-wrap">{text}</div>
    </details>
  );
}

function DraftRow({ view }: { view: ChatView }) {
  const draft = view.draft.value;
  if (!draft) return null;
  const calls = view.calls.value;
  if (draft.complete)
    return (
      <AssistantRow
        view={view}
        entry={{
          id: 'draft',
          parent_id: null,
          seq: 0,
          depth: 0,
          revision: 0,
          created_at: 0,
          updated_at: 0,
          type: 'message',
          message: draft.complete,
        }}
        message={draft.complete}
        results={new Map()}
      />
    );
  return (
    <article class="msg msg-assistant msg-streaming" aria-label="Assistant (responding)" aria-busy="true">
      <div class="msg-who">
        Assistant <span class="muted small">{view.live.value?.model ?? ''}</span>
      </div>
      <div class="msg-body">
        {draft.blocks.map((block, i) =>
          block ? (
            <DraftBlockView key={i} block={block} status={calls.get(block.function_call_id ?? '')?.status} />
          ) : null,
        )}
        <span class="cursor" aria-hidden="true" />
      </div>
    </article>
  );
}

function DraftBlockView({ block, status }: { block: DraftBlock; status?: string | undefined }) {
  if (block.kind === 'text') return <Markdown text={block.text} live />;
  if (block.kind === 'thinking')
    return (
      <details class="thinking" open>
        <summary>Thinking…</summary>
        <div class="thinking-body pre-wrap">{block.text}</div>
      </details>
    );
  return (
    <section class="fn-card fn-streaming" aria-label="Function call being prepared">
      <header class="fn-head">
        <span class="fn-dot fn-dot-streaming" aria-hidden="true" />
        <span class="fn-status">{status === 'held' ? 'waiting for approval' : 'preparing a function call'}</span>
      </header>
      <pre class="json-body">{block.text}</pre>
    </section>
  );
}

function OrphanResult({
  view,
  entry,
  message,
}: {
  view: ChatView;
  entry: SessionEntry;
  message: FunctionResultMessage;
}) {
  void view;
  void entry;
  return (
    <article class="msg msg-result" aria-label={`Result of ${message.function_id}`}>
      <div class="msg-who">
        Result <code class="small">{message.function_id}</code>
      </div>
      <div class="msg-body">
        <pre class={message.is_error ? 'json-body is-error' : 'json-body'}>
          {message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n')}
        </pre>
      </div>
    </article>
  );
}

function EntryRow({ entry }: { entry: SessionEntry }) {
  if (entry.type === 'compaction')
    return (
      <article class="msg msg-compaction" aria-label="Compaction">
        <details>
          <summary>Earlier conversation summarised · {tokens(entry.tokens_before)} tokens before</summary>
          {entry.summary ? (
            <Markdown text={entry.summary} />
          ) : (
            <p class="muted">Only function outputs were shortened.</p>
          )}
        </details>
      </article>
    );
  if (entry.type === 'branch_summary')
    return (
      <article class="msg msg-compaction" aria-label="Branch summary">
        <details>
          <summary>Summary of a branch left behind</summary>
          <Markdown text={entry.summary} />
        </details>
      </article>
    );
  if (entry.type === 'custom') {
    const data = entry.data as Record<string, unknown> | null;
    const text =
      data && typeof data === 'object'
        ? String(data.text ?? data.message ?? data.reason ?? JSON.stringify(data))
        : String(data ?? '');
    return (
      <p class={`notice ${entry.custom_type === 'error' ? 'notice-error' : ''}`} role="note">
        <span class="muted small">{entry.custom_type.replaceAll('_', ' ')}</span> {text}
      </p>
    );
  }
  return null;
}

/** Sources the vendor attached to a text (web search, documents). */
function Citations({ citations }: { citations: Citation[] }) {
  return (
    <ol class="citations small" aria-label="Sources">
      {citations.map((c, i) => (
        <li key={i}>
          {c.url && /^https?:/i.test(c.url) ? (
            <a href={c.url} target="_blank" rel="noopener noreferrer">
              {c.title ?? c.url}
            </a>
          ) : (
            (c.title ?? c.type)
          )}
          {c.cited_text ? <span class="muted"> — “{c.cited_text.slice(0, 160)}”</span> : null}
        </li>
      ))}
    </ol>
  );
}

/** A tool the vendor ran on its side (web search, code execution): shown, never run by the harness. */
function ServerToolCard({ use, result }: { use: ServerToolUseBlock; result?: ServerToolResultBlock | undefined }) {
  const status = !result ? 'running' : result.is_error ? 'error' : 'done';
  return (
    <section class={`fn-card fn-${status}`} aria-label={`Vendor tool ${use.name}`}>
      <header class="fn-head">
        <span class={`fn-dot fn-dot-${status}`} aria-hidden="true" />
        <code class="fn-id">{use.name}</code>
        <span class="fn-status">run by the vendor{result ? ` · ${result.result_type.replaceAll('_', ' ')}` : ''}</span>
      </header>
      <JsonView value={use.input} label="Input" />
      {result && <JsonView value={result.content} label={result.is_error ? 'Error' : 'Result'} />}
    </section>
  );
}
