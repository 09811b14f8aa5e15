import { redact } from './secrets.js';
import { inChildSpan } from './tracing.js';

/** Tool spans record arguments and results only when `IIH_TRACE_PAYLOADS=1` (they may hold anything). */
export const tracePayloads = (env: NodeJS.ProcessEnv = process.env): boolean => env.IIH_TRACE_PAYLOADS === '1';

/** Bytes of a recorded payload (`IIH_TRACE_PAYLOAD_MAX_BYTES`, default 4096); the rest is cut. */
export function payloadMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.IIH_TRACE_PAYLOAD_MAX_BYTES);
  return Number.isInteger(value) && value > 0 ? value : 4096;
}

export const TRUNCATED = '…[truncated]';

const MAX_DEPTH = 64;

/**
 * `redact`, also inside strings that hold JSON: a function's result reaches the span as text (the
 * JSON the model is shown), where a secret-named key would otherwise pass as plain characters.
 */
function redactPayload(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return redact(value);
  if (typeof value === 'string') {
    const nested = parseJsonText(value);
    return nested === undefined ? redact(value) : JSON.stringify(redactPayload(nested, depth + 1));
  }
  if (value === null || typeof value !== 'object' || value instanceof Error) return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactPayload(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactPayload(item, depth + 1);
  return redact(out); // the key names (redactPayload kept them)
}

/** The value a string holds when it is a JSON object or array; undefined otherwise. */
function parseJsonText(text: string): object | undefined {
  const start = text.trimStart()[0];
  if (start !== '{' && start !== '[') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A payload as a span may carry it: secrets redacted (by key name — inside JSON text too — and
 * every value this process knows: runtime's masking), as JSON, cut to `maxBytes` on a character
 * boundary.
 */
export function payloadText(value: unknown, maxBytes = payloadMaxBytes()): string {
  let text: string;
  try {
    text = JSON.stringify(redactPayload(value)) ?? 'null';
  } catch {
    text = '"[unserializable]"';
  }
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let cut = Math.max(0, maxBytes - Buffer.byteLength(TRUNCATED));
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // not inside a character
  return bytes.subarray(0, cut).toString('utf8') + TRUNCATED;
}

export interface FunctionCallSpan {
  function_id: string;
  function_call_id: string;
  /** The model's name for the tool it called. */
  tool?: string;
  args: unknown;
}

/**
 * The span of one function call an agent made (`execute_tool <function id>`, OpenTelemetry's
 * GenAI name), around `run`: its function and call ids, its outcome (`ok`, or `error` when the
 * result is one), and — only with `IIH_TRACE_PAYLOADS=1` — its arguments and result, redacted and
 * capped. The function's own span (in its worker) is a child of it.
 */
export function traceFunctionCall<R extends { is_error?: boolean }>(
  call: FunctionCallSpan,
  run: () => Promise<R>,
): Promise<R> {
  const capture = tracePayloads();
  const attributes = {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': call.tool ?? call.function_id,
    'gen_ai.tool.call.id': call.function_call_id,
    ...(capture ? { 'gen_ai.tool.call.arguments': payloadText(call.args) } : {}),
  };
  return inChildSpan({ name: `execute_tool ${call.function_id}`, attributes }, async (span) => {
    // After the start: iii-sdk stamps the baggage's `iii.function.id` (the caller's) on every new span.
    span.annotate({ 'iii.function.id': call.function_id });
    const result = await run();
    if (capture) span.annotate({ 'gen_ai.tool.call.result': payloadText(result) });
    if (result.is_error) span.fail('tool_error');
    else span.annotate({ 'iii.outcome': 'ok' });
    return result;
  });
}
