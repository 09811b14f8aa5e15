import { useEffect, useState } from 'preact/hooks';
import { duration, timeAgo } from '../components/format';
import { features, navigate, reportError } from '../state/app';
import { sessions, titleOf } from '../state/sessions';
import {
  findTurnTrace,
  flatten,
  groups,
  groupsError,
  isError,
  isTurnActivity,
  loadGroups,
  loadLogs,
  loadTraceRoots,
  loadTree,
  logs,
  nanosToMs,
  type Span,
  traceRoots,
  tree,
  treeError,
  turnsOnly,
} from '../state/traces';

/**
 * The engine's traces, grouped by session (`engine::traces::group_by iii.session.id`): pick a
 * session, a trace, and read its waterfall; pick a span for its attributes, events and logs.
 * New spans arrive by the engine's `trace` trigger.
 */
export function TracesScreen({ traceId, session, turn }: { traceId?: string; session?: string; turn?: string }) {
  const [group, setGroup] = useState<string | undefined>(session);
  const available = features.value?.traces;
  useEffect(() => {
    if (available) void loadGroups();
  }, [available]);
  useEffect(() => setGroup(session), [session]);
  useEffect(() => {
    const ids = groups.value.find((g) => g.value === group)?.trace_ids ?? [];
    void loadTraceRoots(ids);
  }, [group, groups.value]);
  useEffect(() => {
    if (traceId) void loadTree(traceId);
    else tree.value = null;
  }, [traceId]);
  useEffect(() => {
    if (!session || !turn || traceId || !available) return;
    findTurnTrace(turn).then(
      (found) =>
        found &&
        navigate(`/traces/${encodeURIComponent(found)}?session=${encodeURIComponent(session)}`, { replace: true }),
      (error) => reportError('Could not find the turn’s trace', error),
    );
  }, [session, turn, traceId, available]);

  if (!available)
    return (
      <main class="page" id="main">
        <header class="page-head">
          <h1>Traces</h1>
        </header>
        <div class="empty-state">
          <p>
            This engine does not serve traces: <code>engine::traces::*</code> is not registered.
          </p>
          <p class="muted small">
            The real iii engine serves them from its observability worker; the dev engine gains them with issue 18. Each
            message links here once they are available.
          </p>
        </div>
      </main>
    );

  return (
    <main class="page traces" id="main">
      <header class="page-head">
        <h1>Traces</h1>
        {groupsError.value && <p class="notice notice-error">{groupsError.value}</p>}
      </header>
      <div class="traces-layout">
        <nav class="trace-groups" aria-label="Sessions with traces">
          <ul>
            {groups.value.map((g) => {
              const s = sessions.value.find((x) => x.session_id === g.value);
              return (
                <li key={g.value}>
                  <button
                    type="button"
                    class={g.value === group ? 'list-button selected' : 'list-button'}
                    aria-pressed={g.value === group}
                    onClick={() => setGroup(g.value)}
                  >
                    <span>{s ? titleOf(s) : (g.label ?? g.value)}</span>
                    <span class="muted small">
                      {g.trace_ids.length} trace{g.trace_ids.length === 1 ? '' : 's'}
                      {g.error_count ? ` · ${g.error_count} errors` : ''}
                      {g.last_seen_ms ? ` · ${timeAgo(g.last_seen_ms)}` : ''}
                    </span>
                  </button>
                </li>
              );
            })}
            {groups.value.length === 0 && <li class="muted small pad">No traces yet.</li>}
          </ul>
        </nav>
        <nav class="trace-list" aria-label="Traces">
          <label class="trace-filter small">
            <input
              type="checkbox"
              checked={turnsOnly.value}
              onChange={(e) => {
                turnsOnly.value = e.currentTarget.checked;
              }}
            />{' '}
            Turn activity only
          </label>
          <ul>
            {traceRoots.value
              .filter((root) => !turnsOnly.value || isTurnActivity(root))
              .map((root) => (
                <li key={root.trace_id}>
                  <button
                    type="button"
                    class={root.trace_id === traceId ? 'list-button selected' : 'list-button'}
                    aria-pressed={root.trace_id === traceId}
                    onClick={() =>
                      navigate(
                        `/traces/${encodeURIComponent(root.trace_id)}${group ? `?session=${encodeURIComponent(group)}` : ''}`,
                      )
                    }
                  >
                    <span class={isError(root) ? 'err' : undefined}>{root.name}</span>
                    <span class="muted small">
                      {duration(nanosToMs(root.end_time_unix_nano) - nanosToMs(root.start_time_unix_nano))} ·{' '}
                      {timeAgo(nanosToMs(root.start_time_unix_nano))}
                    </span>
                  </button>
                </li>
              ))}
          </ul>
        </nav>
        <section class="trace-detail" aria-label="Trace">
          {treeError.value && <p class="notice notice-error">{treeError.value}</p>}
          {tree.value ? <Waterfall traceId={traceId!} roots={tree.value} /> : <p class="muted pad">Choose a trace.</p>}
        </section>
      </div>
    </main>
  );
}

function Waterfall({ traceId, roots }: { traceId: string; roots: Span[] }) {
  const [selected, setSelected] = useState<Span | null>(null);
  const rows = flatten(roots);
  if (rows.length === 0) return <p class="muted pad">This trace has no spans.</p>;
  const start = Math.min(...rows.map((r) => nanosToMs(r.span.start_time_unix_nano)));
  const end = Math.max(...rows.map((r) => nanosToMs(r.span.end_time_unix_nano)));
  const total = Math.max(end - start, 0.001);
  return (
    <div class="waterfall-wrap">
      <p class="small muted">
        {rows.length} spans · {duration(total)} · <code>{traceId}</code>
      </p>
      <ol class="waterfall" aria-label="Spans, in start order">
        {rows.map(({ span, depth }) => {
          const s = nanosToMs(span.start_time_unix_nano) - start;
          const d = nanosToMs(span.end_time_unix_nano) - nanosToMs(span.start_time_unix_nano);
          return (
            <li key={span.span_id}>
              <button
                type="button"
                class={selected?.span_id === span.span_id ? 'span-row selected' : 'span-row'}
                aria-pressed={selected?.span_id === span.span_id}
                onClick={() => {
                  setSelected(span);
                  void loadLogs(traceId, span.span_id);
                }}
              >
                <span class="span-name" style={{ paddingLeft: `${depth * 10}px` }}>
                  <span class={isError(span) ? 'err' : undefined}>{span.name}</span>
                  {span.service_name && span.service_name !== 'iii-node' && (
                    <span class="muted small"> {span.service_name}</span>
                  )}
                </span>
                <span class="span-track" aria-hidden="true">
                  <span
                    class={isError(span) ? 'span-bar err-bar' : 'span-bar'}
                    style={{ left: `${(s / total) * 100}%`, width: `${Math.max((d / total) * 100, 0.4)}%` }}
                  />
                </span>
                <span class="span-dur small">{duration(d)}</span>
              </button>
            </li>
          );
        })}
      </ol>
      {selected && <SpanDetail span={selected} />}
    </div>
  );
}

function SpanDetail({ span }: { span: Span }) {
  const spanLogs = logs.value?.span_id === span.span_id ? logs.value : null;
  return (
    <section class="span-detail" aria-label={`Span ${span.name}`}>
      <h2>{span.name}</h2>
      <table class="table compact">
        <tbody>
          {span.attributes.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>
                <code>{v}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {span.events.length > 0 && (
        <>
          <h3>Events</h3>
          <ul class="small">
            {span.events.map((e, i) => (
              <li key={i}>{e.name}</li>
            ))}
          </ul>
        </>
      )}
      <h3>Logs</h3>
      {spanLogs?.error && <p class="notice notice-error">{spanLogs.error}</p>}
      {spanLogs && spanLogs.records.length === 0 && !spanLogs.error && (
        <p class="muted small">No logs for this span.</p>
      )}
      <ul class="log-lines">
        {spanLogs?.records.map((record, i) => (
          <li key={i} class={`log-${record.severity_text.toLowerCase()}`}>
            <span class="muted small">{record.severity_text}</span> {record.body}
          </li>
        ))}
      </ul>
    </section>
  );
}
