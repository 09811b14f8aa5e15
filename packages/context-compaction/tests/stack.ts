import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  connectClient,
  createScriptedProvider,
  type DevEngine,
  eventually,
  type ScriptedProvider,
  type ScriptedTurn,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import {
  type AssistantMessage,
  type ContractInput,
  contracts,
  type FunctionCallBlock,
  type FunctionResultMessage,
  type JsonObject,
  type Message,
  type Model,
  type SessionEntry,
  type SessionEntryBody,
} from '@iii-harness/types';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { contextCompactionWorker } from '../src/index.js';

const PACKAGES = join(__dirname, '..', '..');

/**
 * A worker package's built entry as a child process (tests/global-setup.cjs builds it): the
 * session and models-catalog workers are other workers' packages, which this one never imports.
 */
function spawnWorker(pkg: string, url: string): { child: ChildProcess; output: string[] } {
  const child = spawn(process.execPath, [join(PACKAGES, pkg, 'dist', 'main.js'), '--url', url, '--log-level', 'warn'], {
    env: { ...process.env, OTEL_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => output.push(String(chunk)));
  return { child, output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** Models the tests register for provider `scripted`. */
export const MODELS: Model[] = [
  { id: 'small-8k', provider: 'scripted', context_window: 8_192, max_output_tokens: 1_024, capabilities: ['tools'] },
  {
    id: 'signed-8k',
    provider: 'scripted',
    context_window: 8_192,
    max_output_tokens: 1_024,
    capabilities: ['tools', 'thinking', 'signed_reasoning'],
  },
  { id: 'big-32k', provider: 'scripted', context_window: 32_768, max_output_tokens: 2_048, capabilities: ['tools'] },
  { id: 'tiny-3k', provider: 'scripted', context_window: 3_000, max_output_tokens: 400, capabilities: [] },
  { id: 'cramped', provider: 'scripted', context_window: 1_500, max_output_tokens: 1_024, capabilities: [] },
];

export const GOOD_SUMMARY = [
  '## Goal',
  'Keep the session working.',
  '## Constraints and preferences',
  '- answer briefly',
  '## Progress',
  '### Done',
  '- earlier turns handled',
  '### In progress',
  '- the current turn',
  '## Decisions (with reasons)',
  '- keep going (the user asked to)',
  '## Next steps',
  '- continue',
  '## Critical context',
  '- nothing else',
].join('\n');

/** A summary turn: played for summariser requests only. */
export const summaryTurn = (text: string, extra: Partial<ScriptedTurn> = {}): ScriptedTurn => ({
  match: (request) => request.system?.includes('working memory') ?? false,
  steps: [{ text }],
  ...extra,
});

export interface Stack {
  engine: DevEngine;
  client: TestClient;
  provider: ScriptedProvider;
  compaction: TestWorker<unknown> | undefined;
  /** (Re)start the compaction worker in this process with a config. */
  startCompaction(config?: Record<string, unknown>): Promise<void>;
  stopCompaction(): Promise<void>;
  close(): Promise<void>;
}

/** Dev engine, session and models-catalog (child processes), the scripted provider (agent and default summariser). */
export async function startStack(
  options: { compaction?: Record<string, unknown> | false; fallback?: ScriptedTurn } = {},
): Promise<Stack> {
  const engine = await startDevEngine();
  const url = engine.url;
  const provider = createScriptedProvider({ fallback: options.fallback ?? { steps: [{ text: GOOD_SUMMARY }] } });
  const children = [spawnWorker('session', url), spawnWorker('models-catalog', url)];
  const workers: Array<TestWorker<any>> = [await startTestWorker(provider.spec, { url })];
  const client = await connectClient(url);
  await eventually(
    async () => {
      const { functions } = await client.bus.call(contracts.engine.functionsList, {});
      const ids = new Set(functions.map((f) => f.function_id));
      for (const id of [contracts.session.messages.id, contracts.models.get.id])
        if (!ids.has(id))
          throw new Error(`${id} is not registered: ${children.map((c) => c.output.join('')).join('\n')}`);
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await client.bus.call(contracts.models.reconcile, { provider: 'scripted', models: MODELS });
  const stack: Stack = {
    engine,
    client,
    provider,
    compaction: undefined,
    async startCompaction(config = {}) {
      await stack.stopCompaction();
      stack.compaction = (await startTestWorker(contextCompactionWorker, { url, config })) as TestWorker<unknown>;
    },
    async stopCompaction() {
      await stack.compaction?.shutdown();
      stack.compaction = undefined;
    },
    async close() {
      await stack.stopCompaction();
      await client.close();
      for (const worker of workers.reverse()) await worker.shutdown();
      await Promise.all(children.map((c) => stop(c.child)));
      await engine.close();
    },
  };
  if (options.compaction !== false) await stack.startCompaction(options.compaction ?? {});
  return stack;
}

let sessions = 0;
export const newSessionId = (prefix = 's') => `${prefix}-${process.pid}-${++sessions}`;

export const user = (text: string): SessionEntryBody => ({ type: 'message', message: { role: 'user', content: text } });

export function assistantMessage(
  content: AssistantMessage['content'],
  usage: { input?: number; output?: number } = {},
  model = 'small-8k',
): AssistantMessage {
  return {
    role: 'assistant',
    content,
    provider: 'scripted',
    model,
    usage: {
      input_tokens: usage.input ?? 0,
      output_tokens: usage.output ?? 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
    },
    stop_reason: content.some((b) => b.type === 'function_call') ? 'function_call' : 'end',
    timestamp: Date.now(),
  };
}

export const call = (id: string, functionId: string, payload: JsonObject): FunctionCallBlock => ({
  type: 'function_call',
  id,
  name: 'agent_trigger',
  arguments: { function_id: functionId, payload },
});

export function resultMessage(callId: string, functionId: string, text: string): FunctionResultMessage {
  return {
    role: 'function_result',
    function_call_id: callId,
    function_id: functionId,
    content: [{ type: 'text', text }],
    is_error: false,
  };
}

export async function appendAll(stack: Stack, sessionId: string, messages: Message[]): Promise<string[]> {
  const ids: string[] = [];
  for (const message of messages) {
    const { entry_id } = await stack.client.bus.call(contracts.session.append, {
      session_id: sessionId,
      entry: { type: 'message', message },
    });
    ids.push(entry_id);
  }
  return ids;
}

export const contextOf = (stack: Stack, sessionId: string) =>
  stack.client.bus.call(contracts.session.messages, { session_id: sessionId });

export async function compactionEntries(
  stack: Stack,
  sessionId: string,
): Promise<Array<Extract<SessionEntry, { type: 'compaction' }>>> {
  const tree = await stack.client.bus.call(contracts.session.tree, { session_id: sessionId });
  return tree.nodes
    .map((n) => n.entry)
    .filter((e): e is Extract<SessionEntry, { type: 'compaction' }> => e.type === 'compaction');
}

type Req = ContractInput<typeof contracts.compaction.plan>;
export const plan = (stack: Stack, req: Req) => stack.client.bus.call(contracts.compaction.plan, req);
export const compactNow = (stack: Stack, req: Req & { reason?: 'preflight' | 'overflow' }) =>
  stack.client.bus.call(contracts.compaction.compactNow, req, { timeoutMs: 60_000 });
export const compactSession = (stack: Stack, req: ContractInput<typeof contracts.compaction.compactSession>) =>
  stack.client.bus.call(contracts.compaction.compactSession, req, { timeoutMs: 60_000 });
export const getState = (stack: Stack, sessionId: string) =>
  stack.client.bus.call(contracts.compaction.getState, { session_id: sessionId });

/**
 * The test's ground truth for a request's size: o200k counts of every text part, 4 tokens of
 * framing per message (what OpenAI's chat format adds). The worker estimates `scripted` models
 * with its heuristic, so this is an independent measure.
 */
export function trueTokens(request: { system?: string; messages: Message[] }): number {
  const count = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
  let total = 3 + (request.system ? 4 + count(request.system) : 0);
  for (const m of request.messages) {
    total += 4;
    if (typeof m.content === 'string') total += count(m.content);
    else
      for (const block of m.content as Array<Record<string, unknown>>) {
        if (block.type === 'text') total += count(block.text as string);
        else if (block.type === 'thinking') total += count(block.thinking as string);
        else if (block.type === 'function_call')
          total += count(String(block.name)) + count(JSON.stringify(block.arguments)) + 3;
      }
  }
  return total;
}

/** Every function result has its call before it, and every call but the last message's has its result. */
export function orphans(messages: Message[]): string[] {
  const problems: string[] = [];
  const open = new Map<string, number>();
  for (const [i, m] of messages.entries()) {
    if (m.role === 'assistant')
      for (const b of m.content) if (b.type === 'function_call') open.set(b.id, (open.get(b.id) ?? 0) + 1);
    if (m.role === 'function_result') {
      const n = open.get(m.function_call_id) ?? 0;
      if (n === 0) problems.push(`result ${m.function_call_id} at ${i} has no call`);
      else open.set(m.function_call_id, n - 1);
    }
  }
  const last = messages[messages.length - 1];
  const pendingAtEnd = new Set(
    last?.role === 'assistant'
      ? last.content.filter((b) => b.type === 'function_call').map((b) => (b as { id: string }).id)
      : [],
  );
  for (const [id, n] of open) if (n > 0 && !pendingAtEnd.has(id)) problems.push(`call ${id} has no result`);
  return problems;
}

export const textOf = (m: Message) =>
  typeof m.content === 'string' ? m.content : (m.content as Array<{ text?: string }>).map((b) => b.text ?? '').join('');
