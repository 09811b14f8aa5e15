/**
 * The invocation gate of a session (a connection on a listener with `rbac` or
 * `middleware_function_id`): a function the session may not call fails with FORBIDDEN; with a
 * middleware, every call to a non-`engine::` function goes to the middleware instead, as
 * `{function_id, payload, action?, context}`, and the middleware's answer is the caller's
 * result (the middleware calls the target itself if it wants to).
 */
import type { WorkerConnection } from '../connection.js';
import { toErrorBody } from '../errors.js';
import { replyTo } from '../local-calls.js';
import type { InvokeFunctionFrame } from '../protocol/frames.js';
import type { Router } from '../router.js';
import { forbiddenMessage, isFunctionAllowed, type WorkerSession } from './policy.js';

/** True when the gate answered the invocation itself (refused it, or handed it to the middleware). */
export function gateInvocation(
  router: Router,
  conn: WorkerConnection,
  session: WorkerSession,
  f: InvokeFunctionFrame,
): boolean {
  const reply = replyTo(conn, f, f.invocation_id !== undefined && f.action?.type !== 'void', router.logger);
  const entry = router.functions.get(f.function_id);
  if (!isFunctionAllowed(session, f.function_id, entry?.metadata)) {
    router.logger.info({ worker_id: conn.id, function_id: f.function_id }, 'invocation forbidden by RBAC');
    reply(undefined, { code: 'FORBIDDEN', message: forbiddenMessage(f.function_id) });
    return true;
  }
  const middleware = session.middleware_function_id;
  if (middleware === undefined || f.function_id.startsWith('engine::')) return false;
  router
    .call(
      middleware,
      { function_id: f.function_id, payload: f.data, action: f.action, context: session.context },
      { traceparent: f.traceparent, baggage: f.baggage },
    )
    .then(
      (result) => reply(result),
      (error: unknown) => reply(undefined, toErrorBody(error)),
    );
  return true;
}
