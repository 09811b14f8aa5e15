import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { append, appendBatch } from './append.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { clone, fork } from './copy-session.js';
import { createSession, ensureSession } from './create-session.js';
import { deleteSession } from './delete-session.js';
import { exportSession } from './export-session.js';
import { getSession } from './get-session.js';
import { inboxAck, inboxDrain, inboxPeek, inboxPeekFirst, inboxPush } from './inbox.js';
import { listSessions } from './list-sessions.js';
import { messages } from './messages.js';
import { setLeaf } from './set-leaf.js';
import { SessionStore } from './store.js';
import { tree } from './tree.js';
import { updateEntry } from './update-entry.js';

/**
 * The whole bus surface of session: functions only. It owns state scopes `meta_scope`,
 * `<entries_scope_prefix>:<id>` and `<inbox_scope_prefix>:<id>`, and publishes custom events on
 * stream `session::events` (group = session id). No triggers: it is storage.
 */
export function register(worker: Worker<Config>): void {
  const store = new SessionStore(worker.bus, worker.config);
  worker.function(createSession(store));
  worker.function(ensureSession(store));
  worker.function(getSession(store));
  worker.function(listSessions(store));
  worker.function(deleteSession(store));
  worker.function(append(store));
  worker.function(appendBatch(store));
  worker.function(updateEntry(store));
  worker.function(messages(store));
  worker.function(tree(store));
  worker.function(fork(store));
  worker.function(setLeaf(store));
  worker.function(clone(store));
  worker.function(exportSession(store));
  worker.function(inboxPush(store));
  worker.function(inboxPeek(store));
  worker.function(inboxPeekFirst(store));
  worker.function(inboxAck(store));
  worker.function(inboxDrain(store));
}

export const sessionWorker: WorkerSpec<Config> = {
  name: 'session',
  description:
    'Sessions as branching trees of typed entries (messages, custom, branch summaries, compactions), with inbox queues',
  config: configSchema,
  env: envOverrides,
  register,
};
