import type { Message } from '@iii-harness/types';

/**
 * Where the context may be cut: the kept tail starts at message `i` only if no function call
 * before `i` has its result at or after `i`, and message `i` is not a result. Calls are paired
 * with results by position (a result answers the latest unanswered call with its id before it),
 * since vendors reuse call ids across turns. A call that was never answered pairs with nothing.
 */
export function validCuts(messages: Message[]): boolean[] {
  const n = messages.length;
  const open = new Int32Array(n + 1);
  const waiting = new Map<string, number[]>();
  for (const [index, message] of messages.entries()) {
    if (message.role === 'assistant') {
      for (const block of message.content)
        if (block.type === 'function_call') {
          const calls = waiting.get(block.id) ?? [];
          calls.push(index);
          waiting.set(block.id, calls);
        }
    } else if (message.role === 'function_result') {
      const call = waiting.get(message.function_call_id)?.pop();
      // Cutting anywhere in (call, result] would separate them.
      if (call !== undefined) {
        open[call + 1]!++;
        open[index + 1]!--;
      }
    }
  }
  const valid: boolean[] = [];
  let depth = 0;
  for (let i = 0; i < n; i++) {
    depth += open[i]!;
    valid.push(depth === 0 && messages[i]!.role !== 'function_result');
  }
  return valid;
}

/**
 * The first kept message for a tail of at most `budget` tokens: the oldest cut at a user message
 * (whole exchanges) that fits; else, unless `wholeExchangesOnly`, the oldest cut anywhere that fits;
 * else the newest allowed cut (the least that can be kept). Never 0 (nothing would be compacted)
 * and never past the last message. null when no cut is allowed.
 */
export function chooseCut(
  messages: Array<{ message: Message; tokens: number }>,
  budget: number,
  wholeExchangesOnly: boolean,
): number | null {
  const valid = validCuts(messages.map((m) => m.message));
  const suffix = new Array<number>(messages.length + 1).fill(0);
  for (let i = messages.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + messages[i]!.tokens;
  const allowed = (i: number, exchange: boolean) => valid[i]! && (!exchange || messages[i]!.message.role === 'user');
  const oldestFitting = (exchange: boolean) => {
    for (let i = 1; i < messages.length; i++) if (allowed(i, exchange) && suffix[i]! <= budget) return i;
    return null;
  };
  const newest = (exchange: boolean) => {
    for (let i = messages.length - 1; i >= 1; i--) if (allowed(i, exchange)) return i;
    return null;
  };
  if (wholeExchangesOnly) return oldestFitting(true) ?? newest(true);
  return oldestFitting(true) ?? oldestFitting(false) ?? newest(false);
}

/** The oldest index from which the messages fit `budget` tokens (at least the last message). */
export function recentFrom(messages: Array<{ tokens: number }>, budget: number): number {
  let total = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    total += messages[i]!.tokens;
    if (total > budget) return Math.min(i + 1, messages.length - 1);
  }
  return 0;
}
