import type { AgentEvent } from '@iii-harness/types';
import { computed, signal } from '@preact/signals';
import type { CallOutput } from '../lib/api';
import { rpc } from '../lib/rpc';
import { reportError } from './app';

export type SessionRow = CallOutput<'session::list'>['sessions'][number];

export const sessions = signal<SessionRow[]>([]);
export const sessionsLoaded = signal(false);
export const titles = signal<ReadonlyMap<string, string>>(new Map());
/** Sessions with a turn running, by what this page has seen (state names from the orchestrator). */
export const liveTurns = signal<ReadonlyMap<string, { turn_id: string; state: string }>>(new Map());
export const search = signal('');

const snippet = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 80);

export function titleOf(
  session: Pick<SessionRow, 'session_id' | 'display_name'> & { last_message?: SessionRow['last_message'] },
): string {
  return (
    titles.value.get(session.session_id) ??
    session.display_name ??
    (session.last_message ? snippet(session.last_message.text) : undefined) ??
    'New chat'
  );
}

export const visibleSessions = computed(() => {
  const query = search.value.trim().toLowerCase();
  if (!query) return sessions.value;
  return sessions.value.filter(
    (s) =>
      titleOf(s).toLowerCase().includes(query) ||
      s.session_id.toLowerCase().includes(query) ||
      (s.last_message?.text.toLowerCase().includes(query) ?? false),
  );
});

let reloadTimer: ReturnType<typeof setTimeout> | undefined;
/** Re-read the list soon (several events in a burst cost one read). */
export function reloadSessionsSoon(): void {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => void loadSessions(), 150);
}

export async function loadSessions(): Promise<void> {
  try {
    const [list, named] = await Promise.all([
      rpc.call('session::list', { limit: 500 }),
      rpc.call('console.titles', {}).catch(() => ({ titles: [] })),
    ]);
    sessions.value = list.sessions;
    titles.value = new Map(named.titles.map((t) => [t.session_id, t.title]));
    sessionsLoaded.value = true;
  } catch (error) {
    reportError('Could not load the sessions', error);
  }
}

export async function renameSession(sessionId: string, title: string): Promise<void> {
  try {
    await rpc.call('console.rename', { session_id: sessionId, title });
  } catch (error) {
    reportError('Rename failed', error);
  }
}

export async function deleteSession(sessionId: string): Promise<boolean> {
  try {
    await rpc.call('console.delete_session', { session_id: sessionId });
    sessions.value = sessions.value.filter((s) => s.session_id !== sessionId);
    return true;
  } catch (error) {
    reportError('Delete failed', error);
    return false;
  }
}

function setLive(sessionId: string, live: { turn_id: string; state: string } | undefined): void {
  const next = new Map(liveTurns.value);
  if (live) next.set(sessionId, live);
  else next.delete(sessionId);
  liveTurns.value = next;
}

export function applyAgentSummary(event: AgentEvent): void {
  if (event.type === 'turn_started') setLive(event.session_id, { turn_id: event.turn_id, state: 'provisioning' });
  else if (event.type === 'turn_state_changed' && event.state !== 'stopped' && event.state !== 'failed')
    setLive(event.session_id, { turn_id: event.turn_id, state: event.state });
  else if (event.type === 'turn_completed') setLive(event.session_id, undefined);
}

/** A brief or full session event: keep the list in order without re-reading it each time. */
export function applySessionEvent(event: { type: string; session_id: string; timestamp: number }): void {
  if (event.type === 'session_created') {
    reloadSessionsSoon();
    return;
  }
  if (event.type === 'session_deleted') {
    sessions.value = sessions.value.filter((s) => s.session_id !== event.session_id);
    return;
  }
  if (event.type !== 'entry_appended') return;
  const row = sessions.value.find((s) => s.session_id === event.session_id);
  if (!row) {
    reloadSessionsSoon();
    return;
  }
  // The last message text comes with the next read; the order changes now.
  sessions.value = [
    { ...row, updated_at: event.timestamp, entry_count: row.entry_count + 1 },
    ...sessions.value.filter((s) => s !== row),
  ];
  reloadSessionsSoon();
}

export function applyTitle(sessionId: string, title: string | null): void {
  const next = new Map(titles.value);
  if (title === null) next.delete(sessionId);
  else next.set(sessionId, title);
  titles.value = next;
}
