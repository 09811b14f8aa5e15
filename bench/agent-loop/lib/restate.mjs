// The brokered durable peer: an agent loop on Restate, the way its docs build one. The
// restate-server binary (npm: @restatedev/restate-server, started by the bench with its defaults but
// the ports) journals every step; the loop is a virtual object keyed by session (one turn at a time
// per session, like our FIFO group) served by @restatedev/restate-sdk in this process: the model call
// and each tool call are `ctx.run` steps, so a retried invocation replays them from the journal
// instead of running them again, and the transcript is the object's state.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as restate from '@restatedev/restate-sdk';

// The SDK uses Promise.withResolvers (Node 22); this machine runs Node 20.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new this((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

import { askText, callsAsked, FINAL_TEXT, makeTool, toolCallsFor } from './script.mjs';

const require = createRequire(import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** The shared script as a model: tool calls for a fresh user message, the final text after tool results. */
function model(messages) {
  const last = messages.at(-1);
  if (last.role === 'tool') return { role: 'assistant', content: FINAL_TEXT, tool_calls: [] };
  return { role: 'assistant', content: '', tool_calls: toolCallsFor(callsAsked(last.content)) };
}

export async function startRestate({ dir, label = 'Restate' }) {
  const runs = { count: 0 };
  const tool = makeTool(runs);
  const session = restate.object({
    name: 'session',
    handlers: {
      /** One turn: the user message in, model and tool calls as journaled steps, the final text out. */
      async turn(ctx, { ask }) {
        const messages = [...((await ctx.get('messages')) ?? []), { role: 'user', content: ask }];
        for (;;) {
          const reply = await ctx.run('model', () => model(messages));
          messages.push(reply);
          if (reply.tool_calls.length === 0) break;
          for (const call of reply.tool_calls) {
            const result = await ctx.run(`tool ${call.id}`, () => tool(call.args));
            messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
          }
        }
        ctx.set('messages', messages);
        return messages.at(-1).content;
      },
      /** The transcript's roles (correctness check). */
      roles: restate.handlers.object.shared(async (ctx) => ((await ctx.get('messages')) ?? []).map((m) => m.role)),
    },
  });

  // The SDK logs every invocation at INFO.
  process.env.RESTATE_LOGGING ??= 'WARN';
  const [ingress, admin, node, endpointPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  await restate.endpoint().bind(session).listen(endpointPort);
  const config = join(dir, 'restate.toml');
  writeFileSync(
    config,
    [
      `bind-address = "127.0.0.1:${node}"`,
      `advertised-address = "http://127.0.0.1:${node}/"`,
      '[admin]',
      `bind-address = "127.0.0.1:${admin}"`,
      '[ingress]',
      `bind-address = "127.0.0.1:${ingress}"`,
    ].join('\n'),
  );
  const binary = join(
    require.resolve('@restatedev/restate-server-linux-x64/package.json'),
    '..',
    'bin',
    'restate-server',
  );
  const server = spawn(binary, ['--config-file', config, '--base-dir', join(dir, 'restate-data')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = [];
  server.stderr.on('data', (chunk) => stderr.push(String(chunk)));
  const adminUrl = `http://127.0.0.1:${admin}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${adminUrl}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error(`restate-server did not start:\n${stderr.join('').slice(-2000)}`);
    await sleep(100);
  }
  const registered = await fetch(`${adminUrl}/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}` }),
  });
  if (!registered.ok) throw new Error(`registering the endpoint failed: ${await registered.text()}`);

  const ingressUrl = `http://127.0.0.1:${ingress}`;
  const call = async (path, body) => {
    const response = await fetch(`${ingressUrl}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    if (!response.ok) throw new Error(`restate ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  // The ingress learns of the deployment asynchronously.
  for (let i = 0; ; i++) {
    try {
      await call('session/warm-0/roles');
      break;
    } catch (error) {
      if (i > 100) throw error;
      await sleep(100);
    }
  }

  let counter = 0;
  return {
    name: label,
    runs,
    pid: server.pid,
    /** One turn on a fresh session: one ingress request that returns when the turn ended. */
    async turn(n) {
      const sessionId = `restate-${++counter}`;
      const began = performance.now();
      const answer = await call(`session/${sessionId}/turn`, { ask: askText(sessionId, n) });
      const ms = performance.now() - began;
      if (answer !== FINAL_TEXT) throw new Error(`session ${sessionId} ended without the final answer`);
      return { ms, sessionId };
    },
    async roles(sessionId) {
      return call(`session/${sessionId}/roles`);
    },
    async close() {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    },
  };
}
