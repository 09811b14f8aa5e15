/**
 * How the conformance cases read what a provider sent, per wire format: the same checks (system
 * prompt first, calls echoed with their ids, each result sent back) hold for chat completions and
 * the Responses API, each read from its own body shape.
 */
export interface ConformanceWire {
  /** Requests for a completion end with this path (`/chat/completions`, `/responses`). */
  path: string;
  read(body: unknown): WireRequest;
}

/** A completion request in neutral terms. */
export interface WireRequest {
  stream: boolean;
  system?: string;
  /** The text of the first user message. */
  firstUserText?: unknown;
  /** `type` of each tool offered. */
  toolTypes: string[];
  /** Calls sent back in assistant turns, in order. */
  calls: Array<{ id: string; arguments: unknown }>;
  /** Results sent back: `[call id, text]`, in order. */
  results: Array<[string, unknown]>;
}

type Body = Record<string, unknown> & { tools?: Array<{ type: string }> };
type Item = Record<string, unknown>;

/** OpenAI chat completions: `messages` with a `system` message first, `tool_calls`, `role: tool` results. */
export const chatCompletionsWire: ConformanceWire = {
  path: '/chat/completions',
  read(raw) {
    const body = raw as Body;
    const messages = (body.messages ?? []) as Item[];
    return {
      stream: body.stream === true,
      system: messages.find((m) => m.role === 'system')?.content as string | undefined,
      firstUserText: messages.find((m) => m.role === 'user')?.content,
      toolTypes: (body.tools ?? []).map((t) => t.type),
      calls: messages.flatMap((m) =>
        ((m.tool_calls ?? []) as Array<{ id: string; function: { arguments: string } }>).map((c) => ({
          id: c.id,
          arguments: JSON.parse(c.function.arguments),
        })),
      ),
      results: messages.filter((m) => m.role === 'tool').map((m) => [String(m.tool_call_id), m.content]),
    };
  },
};

/** OpenAI Responses: `instructions`, `input` items (`function_call`, `function_call_output`). */
export const responsesWire: ConformanceWire = {
  path: '/responses',
  read(raw) {
    const body = raw as Body;
    const input = (body.input ?? []) as Item[];
    return {
      stream: body.stream === true,
      system: body.instructions as string | undefined,
      firstUserText: input.find((i) => i.role === 'user')?.content,
      toolTypes: (body.tools ?? []).map((t) => t.type),
      calls: input
        .filter((i) => i.type === 'function_call')
        .map((i) => ({ id: String(i.call_id), arguments: JSON.parse(String(i.arguments)) })),
      results: input.filter((i) => i.type === 'function_call_output').map((i) => [String(i.call_id), i.output]),
    };
  },
};
