/**
 * A vendor-neutral script of one assistant response. Each fake vendor server renders it in its
 * own wire format (Anthropic Messages SSE, OpenAI chat-completions SSE), so one scenario tests
 * every provider the same way.
 */
export type ScenarioStep =
  | { text: string }
  | { thinking: string; signature?: string }
  | { tool_call: { id?: string; name: string; arguments: Record<string, unknown> } };

export interface Scenario {
  /** Answer with this HTTP error (vendor's error body) instead of a stream. */
  http_error?: { status: number; body?: unknown; headers?: Record<string, string> };
  steps?: ScenarioStep[];
  /**
   * Why the response ends, in neutral terms; each server maps it onto its vendor's value
   * (`end` → end_turn / stop, `length` → max_tokens / length, `tool_calls` → tool_use / tool_calls).
   * `raw` sends a vendor string as is.
   */
  stop?: 'end' | 'length' | 'tool_calls' | 'stop_sequence' | 'refusal' | 'content_filter' | { raw: string };
  usage?: { input: number; output: number; cache_read?: number; cache_write?: number; reasoning?: number };
  /** Split each text, thinking and tool-argument string into this many deltas (default 3). */
  split?: number;
  /** Delay between SSE events, for slow streams and abort tests. */
  event_delay_ms?: number;
  /** Send a vendor error event after this many content steps, then end the stream. */
  error_mid_stream?: { after_steps: number; message: string; type?: string };
  /** Close the TCP connection after this many content steps without ending the stream properly. */
  drop_after_steps?: number;
  /**
   * Send these SSE frames as they are instead of rendering `steps`: streams written by hand from
   * the vendor's documentation, to replay shapes the renderer never produces. A string `data` goes
   * out verbatim (so a frame can carry cut-off JSON); `event` names the SSE event (Anthropic).
   */
  raw_sse?: RawSseFrame[];
}

export interface RawSseFrame {
  event?: string;
  data: unknown;
}

/** Cut `text` into `parts` nearly equal pieces (at least one; never empty pieces except for ''). */
export function splitText(text: string, parts = 3): string[] {
  if (text.length === 0) return [''];
  const n = Math.max(1, Math.min(parts, text.length));
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
