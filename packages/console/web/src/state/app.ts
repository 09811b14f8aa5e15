import { computed, signal } from '@preact/signals';
import { CallError, rpc } from '../lib/rpc';

export type Route =
  | { screen: 'chat'; sessionId?: string }
  | { screen: 'approvals' }
  | { screen: 'models' }
  | { screen: 'traces'; traceId?: string; session?: string; turn?: string }
  | { screen: 'budgets' };

function parse(location: Location): Route {
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(location.search);
  switch (parts[0]) {
    case 'approvals':
      return { screen: 'approvals' };
    case 'models':
      return { screen: 'models' };
    case 'budgets':
      return { screen: 'budgets' };
    case 'traces':
      return {
        screen: 'traces',
        ...(parts[1] ? { traceId: parts[1] } : {}),
        ...(query.get('session') ? { session: query.get('session')! } : {}),
        ...(query.get('turn') ? { turn: query.get('turn')! } : {}),
      };
    case 'chat':
      return parts[1] ? { screen: 'chat', sessionId: parts[1] } : { screen: 'chat' };
    default:
      return { screen: 'chat' };
  }
}

export const route = signal<Route>(parse(window.location));
window.addEventListener('popstate', () => {
  route.value = parse(window.location);
});

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === `${location.pathname}${location.search}`) return;
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route.value = parse(window.location);
}

export const chatPath = (sessionId?: string) => (sessionId ? `/chat/${encodeURIComponent(sessionId)}` : '/chat');

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error' | 'success';
}
export const toasts = signal<Toast[]>([]);
let toastId = 0;

export function toast(text: string, kind: Toast['kind'] = 'info'): void {
  const id = ++toastId;
  toasts.value = [...toasts.value.slice(-4), { id, text, kind }];
  setTimeout(() => dismissToast(id), kind === 'error' ? 8_000 : 4_000);
}

export function dismissToast(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

/** Show what went wrong, in the harness's words. */
export function reportError(what: string, error: unknown): void {
  const text = error instanceof CallError ? error.message : error instanceof Error ? error.message : String(error);
  toast(`${what}: ${text}`, 'error');
}

export const engine = computed(() => rpc.hello.value?.engine);
export const features = computed(() => rpc.hello.value?.features);
export const online = computed(() => rpc.state.value === 'open' && engine.value?.connected === true);

/** A message for screen readers (the live region in the shell reads it). */
export const announcement = signal('');
export function announce(text: string): void {
  announcement.value = '';
  queueMicrotask(() => {
    announcement.value = text;
  });
}

/** The approvals drawer, reachable from every screen. */
export const approvalsOpen = signal(false);
export const shortcutsOpen = signal(false);
