import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { append, appendBatch } from './append.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { clone, fork } from './copy-session.js';
import { createSession, ensureSession } from './create-session.js';
import { deleteSession } from './delete-session.js';
import { exportSession } from './export-session.js';
import { getEntry } from './get-entry.js';
import { getSession } from './get-session.js';
import { inboxAck, inboxDrain, inboxPeek, inboxPeekFirst, inboxPush } from './inbox.js';
import { listSessions } from './list-sessions.js';
import { messages } from './messages.js';
import { setLeaf } from './set-leaf.js';
import { SessionStore } from './store.js';
import { tree } from './tree.js';
import { updateEntry } from './update-entry.js';

const { session } = contracts;

/**
 * The whole bus surface of session: functions only. It owns state scopes `meta_scope`,
 * `<entries_scope_prefix>:<id>` and `<inbox_scope_prefix>:<id>`, and publishes custom events on
 * stream `session::events` (group = session id). No triggers: it is storage.
 */
export function register(worker: Worker<Config>): void {
  const store = new SessionStore(worker.bus, worker.config);
  worker.function(session.create, createSession(store));
  worker.function(session.ensure, ensureSession(store));
  worker.function(session.get, getSession(store));
  worker.function(session.list, listSessions(store));
  worker.function(session.delete, deleteSession(store));
  worker.function(session.append, append(store));
  worker.function(session.appendBatch, appendBatch(store));
  worker.function(session.updateEntry, updateEntry(store));
  worker.function(session.getEntry, getEntry(store));
  worker.function(session.messages, messages(store));
  worker.function(session.tree, tree(store));
  worker.function(session.fork, fork(store));
  worker.function(session.setLeaf, setLeaf(store));
  worker.function(session.clone, clone(store));
  worker.function(session.export, exportSession(store));
  worker.function(session.inboxPush, inboxPush(store));
  worker.function(session.inboxPeek, inboxPeek(store));
  worker.function(session.inboxPeekFirst, inboxPeekFirst(store));
  worker.function(session.inboxAck, inboxAck(store));
  worker.function(session.inboxDrain, inboxDrain(store));
}

export const sessionWorker: WorkerSpec<Config> = {
  name: 'session',
  description:
    'Sessions as branching trees of typed entries (messages, custom, branch summaries, compactions), with inbox queues',
  config: configSchema,
  env: envOverrides,
  register,
};
