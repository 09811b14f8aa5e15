import type { AgentEvent, SessionEvent } from '@iii-harness/types';
import type { ServerFrame } from './protocol.js';

/** One open page, as the hub sees it. */
export interface PageSink {
  readonly id: string;
  follows(sessionId: string): boolean;
  send(frame: ServerFrame): void;
}

/**
 * Agent event types every page gets, whatever session it shows: they drive the session list's
 * live badges and the approvals badge and panel ("held calls appear at once wherever the person
 * is"). Deltas and message bodies go only to pages showing that session.
 */
const SUMMARY_AGENT_EVENTS = new Set<AgentEvent['type']>([
  'turn_started',
  'turn_state_changed',
  'turn_waiting',
  'turn_completed',
  'approval_requested',
  'approval_resolved',
  'budget_exceeded',
  'compaction_done',
]);

/**
 * Fans the console's bus pushes out to open pages, each filtered to what it shows. Every event
 * carries its per-session `seq`, so a page drops what it already has and re-reads on a gap:
 * the hub forwards, it does not buffer.
 */
export class LiveHub {
  private readonly pages = new Set<PageSink>();

  add(page: PageSink): void {
    this.pages.add(page);
  }

  remove(page: PageSink): void {
    this.pages.delete(page);
  }

  get size(): number {
    return this.pages.size;
  }

  broadcast(frame: ServerFrame): void {
    for (const page of this.pages) page.send(frame);
  }

  agentEvent(event: AgentEvent): void {
    const summary = SUMMARY_AGENT_EVENTS.has(event.type);
    for (const page of this.pages) if (summary || page.follows(event.session_id)) page.send({ t: 'agent', event });
  }

  sessionEvent(event: SessionEvent): void {
    const brief = briefOf(event);
    for (const page of this.pages) {
      if (page.follows(event.session_id)) page.send({ t: 'session', event });
      else if (brief) page.send({ t: 'session', event: brief });
    }
  }
}

/** What a page not showing the session needs: that it exists, is gone, or moved (list order). */
function briefOf(event: SessionEvent): unknown {
  switch (event.type) {
    case 'session_created':
    case 'session_deleted':
      return event;
    case 'entry_appended':
      return {
        type: event.type,
        session_id: event.session_id,
        seq: event.seq,
        timestamp: event.timestamp,
        entry_id: event.entry_id,
      };
    default:
      return undefined;
  }
}
