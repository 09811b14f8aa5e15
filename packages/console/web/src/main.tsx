import type { AgentEvent, BudgetAlertEvent, SessionEvent } from '@iii-harness/types';
import { render } from 'preact';
import { App } from './app';
import { rpc } from './lib/rpc';
import { loadBudgets, onBudgetAlert } from './screens/budgets';
import { route, toast } from './state/app';
import { applyApprovalEvent, loadPending } from './state/approvals';
import { current } from './state/chat';
import { loadModels } from './state/models';
import { applyAgentSummary, applySessionEvent, applyTitle, loadSessions } from './state/sessions';
import { loadGroups, loadTree } from './state/traces';
import './styles.css';

/** Read everything the page shows: on first connection, and again after any reconnection. */
function reloadAll(): void {
  void loadSessions();
  void loadPending();
  void loadModels();
  void current.value?.load();
  if (route.value.screen === 'budgets') void loadBudgets();
  if (route.value.screen === 'traces') void loadGroups();
}

let epoch = -1;
rpc.onOpen((hello) => {
  epoch = hello.engine.epoch;
  if (hello.engine.connected) reloadAll();
});

let traceTimer: ReturnType<typeof setTimeout> | undefined;

rpc.onPush((frame) => {
  switch (frame.t) {
    case 'agent': {
      const event = frame.event as AgentEvent;
      applyAgentSummary(event);
      applyApprovalEvent(event);
      if (current.value?.sessionId === event.session_id) current.value.onAgentEvent(event);
      if (event.type === 'turn_completed' && route.value.screen === 'budgets') void loadBudgets();
      if (event.type === 'approval_requested' && current.value?.sessionId !== event.session_id)
        toast(`Approval needed: ${event.function_id}`);
      break;
    }
    case 'session': {
      const event = frame.event as SessionEvent;
      applySessionEvent(event);
      // Brief events (no entry body) are for pages not showing the session.
      const full = event.type !== 'entry_appended' || 'entry' in event;
      if (full && current.value?.sessionId === event.session_id) current.value.onSessionEvent(event);
      break;
    }
    case 'budget_alert':
      onBudgetAlert(frame.alert as BudgetAlertEvent, route.value.screen === 'budgets');
      break;
    case 'title':
      applyTitle(frame.session_id, frame.title);
      break;
    case 'engine':
      // A new epoch: the engine (or our link to it) restarted; what we show may be stale.
      if (frame.engine.connected && frame.engine.epoch !== epoch) {
        epoch = frame.engine.epoch;
        reloadAll();
      }
      break;
    case 'features':
      // Workers came or went (after an engine restart they come one by one): read again.
      reloadAll();
      break;
    case 'traces':
      if (route.value.screen !== 'traces') break;
      clearTimeout(traceTimer);
      traceTimer = setTimeout(() => {
        void loadGroups();
        const r = route.value;
        if (r.screen === 'traces' && r.traceId && frame.trace_ids.includes(r.traceId)) void loadTree(r.traceId);
      }, 300);
      break;
  }
});

rpc.connect();
render(<App />, document.getElementById('app')!);
