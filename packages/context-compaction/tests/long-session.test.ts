import { type AssistantMessage, contracts, type Message, type ToolSpec } from '@iii-harness/types';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { prose } from './helpers.js';
import {
  appendAll,
  compactNow,
  contextOf,
  newSessionId,
  orphans,
  plan,
  resultMessage,
  type Stack,
  startStack,
  textOf,
  trueTokens,
} from './stack.js';

/**
 * The orchestrator's loop against an 8k-window model for 200 turns: plan before every provider
 * call, compact_now when the plan says the request would not fit, then send what
 * `session::messages` returns. The scripted provider reports as input usage the request's o200k
 * count (the test's ground truth, independent of the worker's heuristic) and is also the
 * summariser (the session's own model, the default).
 */

const WINDOW = 8_192;
const MAX_TOKENS = 1_024;
const SYSTEM = 'You are a careful coding agent working in a repository. Use agent_trigger to call bus functions.';
const TOOLS: ToolSpec[] = [
  {
    name: 'agent_trigger',
    description: 'Call a bus function by id with a JSON payload',
    parameters: {
      type: 'object',
      properties: { function_id: { type: 'string' }, payload: { type: 'object' } },
      required: ['function_id'],
    },
  },
];
const TOOLS_TOKENS = countTokens(JSON.stringify(TOOLS));

let s: Stack;
beforeAll(async () => {
  s = await startStack();
}, 60_000);
afterAll(async () => s?.close());

it('stays under an 8k window for 200 turns, compacting only when it must, keeping every entry', async () => {
  const session_id = newSessionId('long');
  await s.client.bus.call(contracts.session.ensure, { session_id });
  const request = {
    session_id,
    provider: 'scripted',
    model: 'small-8k',
    system: SYSTEM,
    tools: TOOLS,
    reserve_output_tokens: MAX_TOKENS,
  };
  const appended = new Map<string, Message>();
  const append = async (message: Message) => {
    const [id] = await appendAll(s, session_id, [message]);
    appended.set(id!, message);
  };
  const compactions: Array<{ turn: number; before: number; after: number; stage?: string }> = [];
  const sent: number[] = [];
  let calls = 0;
  let turn = 0;

  /** One provider call as the orchestrator makes it; returns the assistant message it appended. */
  const providerCall = async (steps: Array<Record<string, unknown>>): Promise<AssistantMessage> => {
    const projected = await plan(s, request);
    if (projected.needs_compaction) {
      const result = await compactNow(s, request);
      expect(result).toMatchObject({ status: 'compacted' });
      // Fired because the request would not fit, and it fits now.
      expect(result.tokens_before).toBeGreaterThan(projected.usable_tokens);
      expect((await plan(s, request)).needs_compaction).toBe(false);
      compactions.push({ turn, before: result.tokens_before, after: result.tokens_after, stage: result.stage });
      const context = (await contextOf(s, session_id)).messages;
      if (result.stage === 'summary') {
        expect(context[0]!.entry_id).toBe(result.compaction_entry_id);
        expect(textOf(context[0]!.message)).toContain('## Goal');
        expect(textOf(context[0]!.message)).toContain('## Fact ledger');
      }
      expect(orphans(context.map((m) => m.message))).toEqual([]);
    } else {
      // Not compacted: then the request really fits.
      expect(projected.projected_tokens).toBeLessThanOrEqual(projected.usable_tokens);
    }
    const messages = (await contextOf(s, session_id)).messages.map((m) => m.message);
    const truth = trueTokens({ system: SYSTEM, messages }) + TOOLS_TOKENS;
    s.provider.script({ steps: steps as never, usage: { input: truth, output: 60 } });
    const { message } = await s.client.bus.call(contracts.provider.complete('scripted'), {
      request_id: `long-${++calls}`,
      model: 'small-8k',
      messages,
      system: SYSTEM,
      tools: TOOLS,
      max_tokens: MAX_TOKENS,
    });
    const received = s.provider.requests[s.provider.requests.length - 1]!;
    expect(received.request_id).toBe(`long-${calls}`);
    const size = trueTokens(received) + TOOLS_TOKENS;
    sent.push(size);
    expect(size + MAX_TOKENS).toBeLessThanOrEqual(WINDOW);
    await append(message);
    return message;
  };

  for (turn = 0; turn < 200; turn++) {
    await append({ role: 'user', content: `turn ${turn}: ${prose(40, turn)}` });
    if (turn % 3 === 0) {
      const callId = `call_${turn}`;
      await providerCall([
        { text: `Reading module ${turn}.` },
        {
          tool_call: {
            id: callId,
            name: 'agent_trigger',
            arguments: { function_id: 'fs::read', payload: { path: `/repo/src/m${turn}.ts` } },
          },
        },
      ]);
      const lines = turn % 40 === 39 || turn === 99 ? 1_500 : 25;
      const body = Array.from({ length: lines }, (_, i) => `export const m${turn}_${i} = '${prose(5, turn + i)}';`);
      await append(resultMessage(callId, 'fs::read', body.join('\n')));
    }
    await providerCall([{ text: `turn ${turn} done: ${prose(30, turn + 1)}` }]);
  }

  // Compaction fired when it had to, and not on every call: the session kept growing between.
  expect(compactions.length).toBeGreaterThanOrEqual(8);
  expect(compactions.length).toBeLessThan(calls / 4);
  expect(compactions.some((c) => c.stage === 'cap')).toBe(true);
  expect(compactions.filter((c) => c.stage === 'summary').length).toBeGreaterThanOrEqual(5);
  // Flat once past the window: the last 100 calls are no bigger than the window allows.
  expect(Math.max(...sent)).toBeLessThanOrEqual(WINDOW - MAX_TOKENS);

  // The transcript kept every original entry, unchanged.
  const tree = await s.client.bus.call(contracts.session.tree, { session_id });
  const stored = new Map(tree.nodes.map((n) => [n.entry.id, n.entry]));
  for (const [id, message] of appended) {
    const entry = stored.get(id);
    expect(entry?.type === 'message' && entry.message).toEqual(message);
  }
  const context = (await contextOf(s, session_id)).messages;
  expect(textOf(context[0]!.message)).toMatch(
    /^The earlier part of this conversation was compacted\. Summary:\n\n## Goal[\s\S]*## Fact ledger/,
  );
  expect(context.slice(1).every((m) => appended.has(m.entry_id))).toBe(true);
  expect(orphans(context.map((m) => m.message))).toEqual([]);
  console.log(
    `200 turns, ${calls} provider calls, ${compactions.length} compactions (${compactions.map((c) => c.stage).join(', ')}); ` +
      `request sizes (o200k): max ${Math.max(...sent)}, last ${sent[sent.length - 1]}; window ${WINDOW}, output ${MAX_TOKENS}`,
  );
}, 600_000);
