// The one scripted model and the one instant tool both systems run. The model is a pure function
// of the conversation: the user's message says how many tool calls to make ("calls=N"); once
// tool results follow, it answers with a fixed text. Neither side waits on anything real, so every
// millisecond a turn takes is the loop's own overhead.

export const TOOL_ID = 'bench::noop';
/** A function the policy does not allow: a call to it waits for a person (the idle-memory phase parks turns on it). */
export const HELD_TOOL_ID = 'bench::held';
export const TOOL_NAME = 'noop';
export const FINAL_TEXT = 'All tool calls are done.';

/** The user message that asks for `n` tool calls (the session id keeps it unique). */
export const askText = (sessionId, n) => `session ${sessionId}: calls=${n}`;

/** How many calls a user message asks for. */
export function callsAsked(text) {
  const match = /calls=(\d+)/.exec(text);
  if (!match) throw new Error(`no calls=N in "${text}"`);
  return Number(match[1]);
}

/** The assistant's first answer: `n` tool calls with distinct ids and small arguments. */
export const toolCallsFor = (n) => Array.from({ length: n }, (_, i) => ({ id: `call_${i + 1}`, args: { i: i + 1 } }));

/** The instant tool. `runs` counts executions so each side can prove every call ran exactly once. */
export function makeTool(runs) {
  return (args) => {
    runs.count += 1;
    return { ok: true, i: args.i };
  };
}
