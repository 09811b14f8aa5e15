import { contracts, type Message } from '@iii-harness/types';
import { appendAll, assistantMessage, call, newSessionId, resultMessage, type Stack } from './stack.js';

const WORDS = 'alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega river stone cloud ember'.split(' ');
/** Prose of about `n` words, different for each seed. */
export const prose = (n: number, seed = 0) =>
  Array.from({ length: n }, (_, i) => WORDS[(i * 7 + seed) % WORDS.length]).join(' ');

export interface ChatOptions {
  turns: number;
  /** Words per user and assistant text. */
  words?: number;
  /** Every k-th turn calls fs::read and gets a result of `resultLines` lines. */
  toolEvery?: number;
  resultLines?: number;
  model?: string;
  /** Assistant messages carry signed thinking. */
  thinking?: boolean;
  sessionId?: string;
}

/** The messages of a scripted conversation (not appended). */
export function chat(o: ChatOptions, from = 0): Message[] {
  const out: Message[] = [];
  const model = o.model ?? 'small-8k';
  for (let t = from; t < from + o.turns; t++) {
    out.push({ role: 'user', content: `turn ${t}: ${prose(o.words ?? 30, t)}` });
    const thinking = o.thinking
      ? [{ type: 'thinking' as const, thinking: `plan for turn ${t}`, signature: `sig-${t}-${'s'.repeat(40)}` }]
      : [];
    if (o.toolEvery && t % o.toolEvery === 0) {
      out.push(
        assistantMessage([...thinking, call(`call_${t}`, 'fs::read', { path: `/repo/src/module_${t}.ts` })], {}, model),
      );
      const lines = Array.from(
        { length: o.resultLines ?? 40 },
        (_, i) => `export const v${t}_${i} = '${prose(6, t + i)}';`,
      );
      lines[0] = `// module ${t}: MOD-${t}0042`;
      out.push(resultMessage(`call_${t}`, 'fs::read', lines.join('\n')));
    }
    out.push(
      assistantMessage([...thinking, { type: 'text', text: `answer ${t}: ${prose(o.words ?? 30, t + 3)}` }], {}, model),
    );
  }
  return out;
}

export async function chatSession(
  s: Stack,
  o: ChatOptions,
): Promise<{ session_id: string; ids: string[]; messages: Message[] }> {
  const session_id = o.sessionId ?? newSessionId();
  await s.client.bus.call(contracts.session.ensure, { session_id });
  const messages = chat(o);
  const ids = await appendAll(s, session_id, messages);
  return { session_id, ids, messages };
}

/** Summariser requests the scripted provider received, oldest first. */
export const summariserRequests = (s: Stack) => s.provider.requests.filter((r) => r.system?.includes('working memory'));

export const userText = (request: { messages: Message[] }) => {
  const m = request.messages[request.messages.length - 1]!;
  return typeof m.content === 'string' ? m.content : '';
};
