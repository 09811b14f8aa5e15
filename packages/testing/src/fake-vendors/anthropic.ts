import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Scenario, type ScenarioStep, splitText } from './scenario.js';
import { delay, FakeVendorServer, type Route, streamRawSse, writeSse } from './server.js';

/**
 * Anthropic-only steps: encrypted reasoning (`redacted_thinking`); text with citations (sent as
 * `citations_delta` events before the text); a tool Anthropic runs itself (`server_tool_use`, its
 * input streamed as `input_json_delta`) and that tool's result block (sent whole, as Anthropic does).
 */
export type AnthropicScenarioStep =
  | ScenarioStep
  | { redacted_thinking: string }
  | { text: string; citations: Array<Record<string, unknown>> }
  | { server_tool_use: { id: string; name: string; input: Record<string, unknown> } }
  | { server_tool_result: { type: string; tool_use_id: string; content: unknown } };
export interface AnthropicScenario extends Omit<Scenario, 'steps'> {
  steps?: AnthropicScenarioStep[];
  /** Sent with a `refusal` stop: `{type: 'refusal', category, explanation}`. */
  stop_details?: Record<string, unknown>;
}

export interface FakeAnthropicModel {
  id: string;
  display_name?: string;
  created_at?: string;
  /** Newer API versions report limits; left out, the entry looks like the documented minimum. */
  max_input_tokens?: number;
  max_tokens?: number;
}

export interface FakeAnthropicOptions {
  /** Only this key (`x-api-key` or bearer) is accepted; by default any non-empty key is. */
  apiKey?: string;
  models?: FakeAnthropicModel[];
  /** Answer when no scenario is queued. */
  defaultScenario?: AnthropicScenario;
}

export const DEFAULT_FAKE_ANTHROPIC_MODELS: FakeAnthropicModel[] = [
  { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z' },
  { id: 'claude-opus-4-1-20250805', display_name: 'Claude Opus 4.1', created_at: '2025-08-05T00:00:00Z' },
  { id: 'claude-3-5-haiku-20241022', display_name: 'Claude Haiku 3.5', created_at: '2024-10-22T00:00:00Z' },
];

/** Anthropic's error `type` for an HTTP status, as its error bodies carry it. */
export function anthropicErrorType(status: number): string {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    500: 'api_error',
    504: 'timeout_error',
    529: 'overloaded_error',
  };
  return types[status] ?? 'api_error';
}

/** `{type: 'error', error: {type, message}}`, Anthropic's error body for HTTP errors and stream `error` events. */
export function anthropicErrorBody(
  type: string,
  message: string,
): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type, message } };
}

/**
 * A local server speaking Anthropic's Messages API as documented: `POST /v1/messages` renders
 * the next queued Scenario as the SSE stream (`message_start`, `ping`,
 * `content_block_start|delta|stop`, `message_delta`, `message_stop`, `error`), or as an HTTP
 * error with Anthropic's error body; `GET /v1/models` pages through the model list.
 */
export class FakeAnthropicServer extends FakeVendorServer {
  constructor(options: FakeAnthropicOptions = {}) {
    super(anthropicRoutes(options));
  }

  override enqueue(...scenarios: AnthropicScenario[]): this {
    return super.enqueue(...(scenarios as Scenario[]));
  }
}

export function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
  return new FakeAnthropicServer(options).start();
}

function anthropicRoutes(options: FakeAnthropicOptions): Record<string, Route> {
  const models = options.models ?? DEFAULT_FAKE_ANTHROPIC_MODELS;
  let messageCount = 0;
  const authorized = (req: IncomingMessage, res: ServerResponse) => {
    // Anthropic takes the key as `x-api-key` or, as newer SDKs send it, `Authorization: Bearer`.
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const key = req.headers['x-api-key'] ?? bearer;
    if (!key || (options.apiKey !== undefined && key !== options.apiKey)) {
      sendError(res, 401, { body: anthropicErrorBody('authentication_error', 'invalid x-api-key') });
      return false;
    }
    if (!req.headers['anthropic-version']) {
      sendError(res, 400, {
        body: anthropicErrorBody('invalid_request_error', 'anthropic-version: header is required'),
      });
      return false;
    }
    return true;
  };

  return {
    'POST /v1/messages': async (req, res, body, server) => {
      if (!authorized(req, res)) return;
      const problem = invalidRequest(body);
      if (problem) return sendError(res, 400, { body: anthropicErrorBody('invalid_request_error', problem) });
      const scenario = (server.nextScenario() as AnthropicScenario | undefined) ??
        options.defaultScenario ?? { steps: [{ text: 'Hello from the fake Anthropic API.' }] };
      if (scenario.http_error) return sendError(res, scenario.http_error.status, scenario.http_error);
      if (scenario.raw_sse) return streamRawSse(res, scenario.raw_sse, scenario.event_delay_ms);
      await streamScenario(res, scenario, String((body as { model: string }).model), ++messageCount);
    },
    'GET /v1/models': (req, res) => {
      if (!authorized(req, res)) return;
      const query = new URL(req.url ?? '/', 'http://fake').searchParams;
      const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 20) || 20));
      const after = query.get('after_id');
      const start = after ? models.findIndex((m) => m.id === after) + 1 : 0;
      const page = models.slice(start, start + limit).map(modelEntry);
      sendJson(res, 200, {
        data: page,
        has_more: start + limit < models.length,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
      });
    },
    'GET /v1/models/*': (req, res) => {
      if (!authorized(req, res)) return;
      const id = decodeURIComponent((req.url ?? '').split('?')[0]!.slice('/v1/models/'.length));
      const model = models.find((m) => m.id === id);
      if (!model) return sendError(res, 404, { body: anthropicErrorBody('not_found_error', `model: ${id}`) });
      sendJson(res, 200, modelEntry(model));
    },
  };
}

function modelEntry(model: FakeAnthropicModel) {
  return {
    type: 'model',
    id: model.id,
    display_name: model.display_name ?? model.id,
    created_at: model.created_at ?? '2025-01-01T00:00:00Z',
    ...(model.max_input_tokens ? { max_input_tokens: model.max_input_tokens } : {}),
    ...(model.max_tokens ? { max_tokens: model.max_tokens } : {}),
  };
}

/** The checks Anthropic makes that a provider could get wrong. */
function invalidRequest(body: unknown): string | undefined {
  const b = body as {
    model?: unknown;
    max_tokens?: unknown;
    messages?: unknown;
    thinking?: { type?: string; budget_tokens?: number };
  };
  if (typeof b !== 'object' || b === null) return 'body must be a JSON object';
  if (typeof b.model !== 'string') return 'model: Field required';
  if (typeof b.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(b.messages)) return 'messages: Field required';
  const replayed = replayedBlockProblem(b.messages);
  if (replayed) return replayed;
  if (b.thinking?.type === 'enabled') {
    if ((b.thinking.budget_tokens ?? 0) < 1024)
      return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
    if (b.max_tokens <= b.thinking.budget_tokens!) return '`max_tokens` must be greater than `thinking.budget_tokens`';
  }
  return undefined;
}

/**
 * What Anthropic refuses in assistant turns sent back: a server tool result whose
 * `server_tool_use` is not before it in the same message, and citations carrying response-only
 * fields (`file_id`).
 */
function replayedBlockProblem(messages: unknown[]): string | undefined {
  for (const [m, message] of messages.entries()) {
    const { role, content } = message as { role?: string; content?: unknown };
    if (role !== 'assistant' || !Array.isArray(content)) continue;
    const uses = new Set<string>();
    type Replayed = { type: string; id?: string; tool_use_id?: string; citations?: Array<Record<string, unknown>> };
    for (const [i, block] of (content as Replayed[]).entries()) {
      const at = `messages.${m}.content.${i}`;
      if (block.type === 'server_tool_use') uses.add(String(block.id));
      if (block.type.endsWith('_tool_result') && !uses.has(String(block.tool_use_id)))
        return `${at}: ${block.type} blocks must follow the server_tool_use block with id ${block.tool_use_id}`;
      for (const citation of block.citations ?? [])
        if ('file_id' in citation) return `${at}.citations: Extra inputs are not permitted (file_id)`;
    }
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${Date.now()}`, ...headers })
    .end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  status: number,
  error: { body?: unknown; headers?: Record<string, string> },
): void {
  sendJson(
    res,
    status,
    error.body ??
      anthropicErrorBody(anthropicErrorType(status), status === 529 ? 'Overloaded' : `fake error ${status}`),
    error.headers,
  );
}

const STOP: Record<string, string> = {
  end: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  stop_sequence: 'stop_sequence',
  refusal: 'refusal',
  content_filter: 'refusal',
};

function stopReasonOf(scenario: AnthropicScenario): string {
  if (typeof scenario.stop === 'object') return scenario.stop.raw;
  if (scenario.stop) return STOP[scenario.stop]!;
  return scenario.steps?.some((s) => 'tool_call' in s) ? 'tool_use' : 'end_turn';
}

/** Render one scenario as Anthropic's SSE stream; stops writing as soon as the client goes away. */
async function streamScenario(
  res: ServerResponse,
  scenario: AnthropicScenario,
  model: string,
  n: number,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': `req_fake_${n}`,
  });
  const pause = scenario.event_delay_ms ?? 0;
  const send = async (event: string, data: Record<string, unknown>): Promise<boolean> => {
    if (res.destroyed) return false;
    writeSse(res, { type: event, ...data }, event);
    if (pause) await delay(pause);
    return !res.destroyed;
  };
  const usage = scenario.usage ?? { input: 10, output: 20 };
  const steps = scenario.steps ?? [];
  const message = {
    id: `msg_fake_${n}`,
    type: 'message',
    role: 'assistant',
    content: [],
    model,
    stop_reason: null,
    stop_sequence: null,
  };
  const startUsage = {
    input_tokens: usage.input,
    output_tokens: 1,
    cache_creation_input_tokens: usage.cache_write ?? 0,
    cache_read_input_tokens: usage.cache_read ?? 0,
  };
  if (!(await send('message_start', { message: { ...message, usage: startUsage } }))) return;
  if (!(await send('ping', {}))) return;

  for (let index = 0; index <= steps.length; index++) {
    if (scenario.error_mid_stream?.after_steps === index) {
      const { type = 'overloaded_error', message: text } = scenario.error_mid_stream;
      writeSse(res, anthropicErrorBody(type, text), 'error');
      return void res.end();
    }
    if (scenario.drop_after_steps === index) {
      // Let what was written reach the client first: the cut comes after bytes arrived.
      await new Promise<void>((resolve) => res.write('', () => resolve()));
      return void res.socket?.destroy();
    }
    const step = steps[index];
    if (step && !(await renderBlock(step, index, scenario.split ?? 3, n, send))) return;
  }
  const stop = stopReasonOf(scenario);
  const delta = {
    stop_reason: stop,
    stop_sequence: stop === 'stop_sequence' ? '\n\nHuman:' : null,
    ...(scenario.stop_details ? { stop_details: scenario.stop_details } : {}),
  };
  if (!(await send('message_delta', { delta, usage: { output_tokens: usage.output } }))) return;
  if (!(await send('message_stop', {}))) return;
  res.end();
}

type Send = (event: string, data: Record<string, unknown>) => Promise<boolean>;

async function renderBlock(
  step: AnthropicScenarioStep,
  index: number,
  split: number,
  n: number,
  send: Send,
): Promise<boolean> {
  const deltas = async (list: Array<Record<string, unknown>>) => {
    for (const delta of list) if (!(await send('content_block_delta', { index, delta }))) return false;
    return true;
  };
  let ok: boolean;
  if ('text' in step) {
    const citations = 'citations' in step ? step.citations : undefined;
    ok =
      (await send('content_block_start', {
        index,
        content_block: { type: 'text', text: '', ...(citations ? { citations: [] } : {}) },
      })) &&
      (await deltas((citations ?? []).map((citation) => ({ type: 'citations_delta', citation })))) &&
      (await deltas(splitText(step.text, split).map((text) => ({ type: 'text_delta', text }))));
  } else if ('server_tool_use' in step) {
    const { id, name, input } = step.server_tool_use;
    ok =
      (await send('content_block_start', {
        index,
        content_block: { type: 'server_tool_use', id, name, input: {}, caller: { type: 'direct' } },
      })) &&
      (await deltas(
        splitText(JSON.stringify(input), split).map((partial_json) => ({ type: 'input_json_delta', partial_json })),
      ));
  } else if ('server_tool_result' in step) {
    ok = await send('content_block_start', {
      index,
      content_block: { ...step.server_tool_result, caller: { type: 'direct' } },
    });
  } else if ('thinking' in step) {
    const signature = step.signature ?? `fake-signature-${n}-${index}`;
    ok =
      (await send('content_block_start', { index, content_block: { type: 'thinking', thinking: '' } })) &&
      (await deltas([
        ...splitText(step.thinking, split).map((thinking) => ({ type: 'thinking_delta', thinking })),
        { type: 'signature_delta', signature },
      ]));
  } else if ('redacted_thinking' in step) {
    ok = await send('content_block_start', {
      index,
      content_block: { type: 'redacted_thinking', data: step.redacted_thinking },
    });
  } else {
    const { id = `toolu_fake${n}_${index}`, name, arguments: args } = step.tool_call;
    // Like the real API: the first input_json_delta is empty, then the JSON in pieces.
    const pieces = ['', ...splitText(JSON.stringify(args), split)];
    ok =
      (await send('content_block_start', { index, content_block: { type: 'tool_use', id, name, input: {} } })) &&
      (await deltas(pieces.map((partial_json) => ({ type: 'input_json_delta', partial_json }))));
  }
  return ok && (await send('content_block_stop', { index }));
}
