import type { ServerResponse } from 'node:http';
import { type Scenario, type ScenarioStep, splitText } from './scenario.js';
import { delay } from './server.js';

/**
 * A Scenario rendered as OpenAI Responses API stream events (`POST /v1/responses` with
 * `stream: true`), as the wire carries them: `response.created`, then per output item
 * `response.output_item.added` → its deltas (`output_text`, `reasoning_summary_text`,
 * `function_call_arguments`) → `response.output_item.done`, then one terminal event
 * (`response.completed`, `response.incomplete` with its reason, or `response.failed`). Each SSE
 * frame has its `event:` line and a `sequence_number`, as OpenAI sends them.
 */

export interface ResponsesStyle {
  model: string;
  /** The request asked for `include: ['reasoning.encrypted_content']`: reasoning items carry it. */
  encryptedReasoning: boolean;
  /** Remembers the encrypted content issued for a reasoning item id (the next request must send it back). */
  issue(id: string, encrypted: string): void;
}

type Frame = { event: string; data: Record<string, unknown> } | { drop: true };

const rid = (prefix: string) => `${prefix}_${Math.random().toString(16).slice(2, 14)}${Date.now().toString(16)}`;

/** Responses usage: `input_tokens` includes the cached ones, `output_tokens` the reasoning ones. */
export function responsesUsageOf(scenario: Scenario): Record<string, unknown> {
  const u = scenario.usage ?? { input: 10, output: 5 };
  const input = u.input + (u.cache_read ?? 0);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cache_read ?? 0 },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
    total_tokens: input + u.output,
  };
}

/** The terminal status for a scenario's stop: completed, or incomplete with the vendor's reason. */
function terminalOf(scenario: Scenario): { status: 'completed' } | { status: 'incomplete'; reason: string } {
  const stop = scenario.stop;
  if (stop === 'length') return { status: 'incomplete', reason: 'max_output_tokens' };
  if (stop === 'content_filter') return { status: 'incomplete', reason: 'content_filter' };
  if (typeof stop === 'object' && !['stop', 'tool_calls', 'function_call'].includes(stop.raw))
    return { status: 'incomplete', reason: stop.raw };
  return { status: 'completed' };
}

export function renderResponsesFrames(scenario: Scenario, style: ResponsesStyle): Frame[] {
  const id = rid('resp');
  const created = Math.floor(Date.now() / 1000);
  let sequence = 0;
  const frames: Frame[] = [];
  const emit = (event: string, data: Record<string, unknown>) =>
    frames.push({ event, data: { type: event, ...data, sequence_number: sequence++ } });
  const response = (status: string, output: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: 'response',
    created_at: created,
    status,
    model: style.model,
    output,
    error: null,
    incomplete_details: null,
    store: false,
    ...extra,
  });
  emit('response.created', { response: response('in_progress', []) });
  emit('response.in_progress', { response: response('in_progress', []) });

  const output: unknown[] = [];
  const steps = scenario.steps ?? [{ text: 'Hello from the fake Responses API.' }];
  const cutAt = scenario.error_mid_stream?.after_steps ?? scenario.drop_after_steps;
  const parts = (text: string) => splitText(text, scenario.split ?? 3);
  for (let index = 0; index <= steps.length; index++) {
    if (index === cutAt) {
      if (!scenario.error_mid_stream) return [...frames, { drop: true }];
      const { message, type } = scenario.error_mid_stream;
      emit('response.failed', {
        response: response('failed', output, { error: { code: type ?? 'server_error', message } }),
      });
      return frames;
    }
    const step = steps[index];
    if (step) output.push(renderItem(step, index, parts, emit, style));
  }
  const usage = responsesUsageOf(scenario);
  const end = terminalOf(scenario);
  if (end.status === 'completed') emit('response.completed', { response: response('completed', output, { usage }) });
  else
    emit('response.incomplete', {
      response: response('incomplete', output, { usage, incomplete_details: { reason: end.reason } }),
    });
  return frames;
}

type Emit = (event: string, data: Record<string, unknown>) => void;

/** One output item: added, its deltas, done. Returns the item as `response.output` lists it. */
function renderItem(
  step: ScenarioStep,
  output_index: number,
  parts: (text: string) => string[],
  emit: Emit,
  style: ResponsesStyle,
): Record<string, unknown> {
  if ('text' in step) {
    const item_id = rid('msg');
    const item = { id: item_id, type: 'message', role: 'assistant' };
    emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
    const part = { type: 'output_text', text: '', annotations: [] };
    emit('response.content_part.added', { item_id, output_index, content_index: 0, part });
    for (const delta of parts(step.text))
      emit('response.output_text.delta', { item_id, output_index, content_index: 0, delta, logprobs: [] });
    const done = { ...part, text: step.text };
    emit('response.output_text.done', { item_id, output_index, content_index: 0, text: step.text, logprobs: [] });
    emit('response.content_part.done', { item_id, output_index, content_index: 0, part: done });
    const finished = { ...item, status: 'completed', content: [done] };
    emit('response.output_item.done', { output_index, item: finished });
    return finished;
  }
  if ('thinking' in step) {
    const item_id = rid('rs');
    emit('response.output_item.added', { output_index, item: { id: item_id, type: 'reasoning', summary: [] } });
    const at = { item_id, output_index, summary_index: 0 };
    emit('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } });
    for (const delta of parts(step.thinking)) emit('response.reasoning_summary_text.delta', { ...at, delta });
    emit('response.reasoning_summary_text.done', { ...at, text: step.thinking });
    emit('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text: step.thinking } });
    const encrypted = `gAAAAAB${Buffer.from(`${item_id}:${step.thinking}`).toString('base64url')}`;
    if (style.encryptedReasoning) style.issue(item_id, encrypted);
    const finished = {
      id: item_id,
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: step.thinking }],
      ...(style.encryptedReasoning ? { encrypted_content: encrypted } : {}),
    };
    emit('response.output_item.done', { output_index, item: finished });
    return finished;
  }
  const item_id = rid('fc');
  const call_id = step.tool_call.id ?? rid('call');
  const args = JSON.stringify(step.tool_call.arguments);
  const item = { id: item_id, type: 'function_call', call_id, name: step.tool_call.name };
  emit('response.output_item.added', { output_index, item: { ...item, arguments: '', status: 'in_progress' } });
  for (const delta of parts(args)) emit('response.function_call_arguments.delta', { item_id, output_index, delta });
  emit('response.function_call_arguments.done', { item_id, output_index, arguments: args });
  const finished = { ...item, arguments: args, status: 'completed' };
  emit('response.output_item.done', { output_index, item: finished });
  return finished;
}

/** Write the frames as SSE (`event:` and `data:` lines), pausing between them; stops when the client goes away. */
export async function streamResponsesFrames(res: ServerResponse, frames: Frame[], delayMs: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  for (const [n, frame] of frames.entries()) {
    if (n > 0 && delayMs > 0) await delay(delayMs);
    if (gone) return;
    if ('drop' in frame) {
      await new Promise<void>((resolve) => res.write('', () => resolve()));
      return void res.socket?.destroy();
    }
    res.write(`event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`);
  }
  res.end();
}

/** The model families the Responses API serves as reasoning models (they refuse `temperature`). */
const REASONING = /^(o\d|gpt-5(?!.*chat)|codex)/;

type Item = Record<string, unknown>;

/**
 * What OpenAI refuses in a stateless (`store: false`) Responses request that a provider could get
 * wrong: a reasoning item without the encrypted content we issued (OpenAI answers 404 "not
 * persisted"), with plaintext `content`, or with nothing after it; a function_call_output whose
 * call is not in the input; `temperature` for a reasoning model. Undefined when the body is fine.
 */
export function responsesRequestProblem(
  body: Item,
  issued: Map<string, string>,
): { status: number; message: string; code?: string } | undefined {
  if (typeof body.model !== 'string' || !body.model)
    return { status: 400, message: 'Missing required parameter: model' };
  const input = body.input;
  if (typeof input === 'string' && input) return undefined; // a plain prompt
  if (!Array.isArray(input) || input.length === 0)
    return { status: 400, message: "Invalid 'input': empty array. Expected an array with minimum length 1." };
  if (body.temperature !== undefined && REASONING.test(body.model))
    return { status: 400, message: "Unsupported parameter: 'temperature' is not supported with this model." };
  const calls = new Set<string>();
  for (const [i, raw] of (input as Item[]).entries()) {
    if (raw.type === 'reasoning') {
      const id = String(raw.id ?? '');
      if (!id) return { status: 400, message: `Invalid 'input[${i}].id': ''.` };
      if (!Array.isArray(raw.summary))
        return { status: 400, message: `Missing required parameter: 'input[${i}].summary'.` };
      if (raw.content !== undefined)
        return {
          status: 400,
          message: `Invalid 'input[${i}].content': array too long. Expected an array with maximum length 0.`,
        };
      if (body.store !== false || raw.encrypted_content !== issued.get(id))
        return {
          status: 404,
          message: `Item with id '${id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
        };
      if (i === input.length - 1)
        return {
          status: 400,
          message: `Item '${id}' of type 'reasoning' was provided without its required following item.`,
        };
    }
    if (raw.type === 'function_call') calls.add(String(raw.call_id));
    if (raw.type === 'function_call_output' && !calls.has(String(raw.call_id)))
      return { status: 400, message: `No tool call found for function call output with call_id ${raw.call_id}.` };
  }
  return undefined;
}
