import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ChunkStyle, renderChatCompletion, renderChatCompletionFrames } from './openai-compatible-chunks.js';
import { renderResponsesFrames, responsesRequestProblem, streamResponsesFrames } from './openai-responses.js';
import type { Scenario } from './scenario.js';
import { delay, FakeVendorServer, type Route, streamRawSse, writeSse } from './server.js';

export interface OpenAICompatibleFakeOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get OpenAI's 401. */
  apiKey?: string;
  /** Entries of `GET <prefix>/models`: ids, or whole entries (Moonshot adds `context_length`, llama.cpp `meta`). */
  models?: Array<string | Record<string, unknown>>;
  /** Ids for tool calls a scenario gives none: OpenAI `call_…` (default) or Moonshot `functions.<name>:<n>`. */
  toolCallIds?: 'openai' | 'moonshot';
  usageIn?: ChunkStyle['usageIn'];
  laterToolDeltas?: ChunkStyle['laterToolDeltas'];
  /** Where the OpenAI routes live (default `/v1`). */
  prefixes?: string[];
  /** Vendor-specific routes beside the OpenAI ones (LM Studio REST, llama.cpp health/props). */
  extraRoutes?: Record<string, Route>;
  /** Answer for a chat request before the scenario queue is consulted (llama.cpp's 503 while loading). */
  gate?: (res: ServerResponse) => boolean;
}

/** `{error: {message, type, param, code}}`, OpenAI's error body. */
export function openAIErrorBody(
  message: string,
  type: string,
  code: string | number | null = null,
): { error: Record<string, unknown> } {
  return { error: { message, type, param: null, code } };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'x-request-id': `req_${Math.random().toString(36).slice(2, 10)}`,
      ...headers,
    })
    .end(JSON.stringify(body));
}

const DEFAULT_ERRORS: Record<number, [string, string, string | null]> = {
  400: ['Invalid request.', 'invalid_request_error', null],
  401: ['Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'],
  403: ['You are not allowed to sample from this model.', 'invalid_request_error', null],
  404: ['The model does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found'],
  429: ['Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded'],
  500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
  503: ['The engine is currently overloaded, please try again later.', 'server_error', null],
};

/** The error body a scenario's `http_error` sends: its own, or the vendor's usual one for the status. */
function errorBodyFor(status: number, body: unknown): unknown {
  if (body !== undefined) return body;
  const [message, type, code] = DEFAULT_ERRORS[status] ?? ['Error.', 'server_error', null];
  return openAIErrorBody(message, type, code);
}

/** OpenAI masks all but the ends of a wrong key in its 401 message. */
function maskKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}${'*'.repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`;
}

/**
 * A fake OpenAI-compatible server: `POST /v1/chat/completions` (SSE with `data:` lines and
 * `data: [DONE]`, or one JSON completion when `stream` is false), `POST /v1/responses` (the
 * Responses API's typed SSE events, stateless: encrypted reasoning must come back) and
 * `GET /v1/models`, driven by queued Scenarios. It checks the request as the real API does (key, model, messages,
 * `stream_options` only with `stream`).
 */
export function createOpenAICompatibleServer(options: OpenAICompatibleFakeOptions = {}): FakeVendorServer {
  let callCounter = 0;
  const nextToolCallId = (name: string) =>
    options.toolCallIds === 'moonshot'
      ? `functions.${name}:${callCounter++}`
      : `call_${Math.random().toString(36).slice(2, 10)}${(callCounter++).toString(36)}`;

  const authorized = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!options.apiKey) return true;
    const header = String(req.headers.authorization ?? '');
    if (header === `Bearer ${options.apiKey}`) return true;
    const given = header.replace(/^Bearer\s+/i, '');
    const message = given
      ? `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`
      : "You didn't provide an API key.";
    sendJson(res, 401, openAIErrorBody(message, 'invalid_request_error', given ? 'invalid_api_key' : null));
    return false;
  };

  const chat: Route = async (req, res, body, server) => {
    if (!authorized(req, res)) return;
    if (options.gate?.(res)) return;
    const request = body as {
      model?: unknown;
      messages?: unknown;
      stream?: unknown;
      stream_options?: { include_usage?: boolean };
    };
    if (typeof request?.model !== 'string' || !request.model)
      return sendJson(res, 400, openAIErrorBody('you must provide a model parameter', 'invalid_request_error'));
    if (!Array.isArray(request.messages) || request.messages.length === 0) {
      return sendJson(
        res,
        400,
        openAIErrorBody(
          "Invalid 'messages': empty array. Expected an array with minimum length 1.",
          'invalid_request_error',
          'empty_array',
        ),
      );
    }
    if (request.stream_options && request.stream !== true) {
      return sendJson(
        res,
        400,
        openAIErrorBody(
          "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
          'invalid_request_error',
        ),
      );
    }
    const scenario: Scenario = server.nextScenario() ?? {};
    if (scenario.http_error) {
      const { status, body: errorBody, headers } = scenario.http_error;
      return sendJson(res, status, errorBodyFor(status, errorBody), headers);
    }
    if (scenario.raw_sse) return streamRawSse(res, scenario.raw_sse, scenario.event_delay_ms);
    const style: ChunkStyle = {
      model: request.model,
      includeUsage: request.stream_options?.include_usage === true,
      usageIn: options.usageIn ?? 'final_chunk',
      laterToolDeltas: options.laterToolDeltas,
      nextToolCallId,
    };
    if (request.stream !== true) return sendJson(res, 200, renderChatCompletion(scenario, style));
    await streamFrames(res, renderChatCompletionFrames(scenario, style), scenario.event_delay_ms ?? 0);
  };

  // Encrypted reasoning this server handed out, by reasoning item id: the next request must send it back.
  const issued = new Map<string, string>();
  const responses: Route = async (req, res, body, server) => {
    if (!authorized(req, res)) return;
    if (options.gate?.(res)) return;
    const request = body as Record<string, unknown>;
    const problem = responsesRequestProblem(request, issued);
    if (problem)
      return sendJson(
        res,
        problem.status,
        openAIErrorBody(problem.message, 'invalid_request_error', problem.code ?? null),
      );
    const scenario: Scenario = server.nextScenario() ?? {};
    if (scenario.http_error) {
      const { status, body: errorBody, headers } = scenario.http_error;
      return sendJson(res, status, errorBodyFor(status, errorBody), headers);
    }
    if (scenario.raw_sse) return streamRawSse(res, scenario.raw_sse, scenario.event_delay_ms);
    const include = Array.isArray(request.include) ? request.include : [];
    const frames = renderResponsesFrames(scenario, {
      model: String(request.model),
      encryptedReasoning: include.includes('reasoning.encrypted_content'),
      issue: (id, encrypted) => issued.set(id, encrypted),
    });
    await streamResponsesFrames(res, frames, scenario.event_delay_ms ?? 0);
  };

  const models: Route = (req, res) => {
    if (!authorized(req, res)) return;
    const data = (options.models ?? ['gpt-fake']).map((m) =>
      typeof m === 'string' ? { id: m, object: 'model', created: 1_700_000_000, owned_by: 'system' } : m,
    );
    sendJson(res, 200, { object: 'list', data });
  };

  const routes: Record<string, Route> = {};
  for (const prefix of options.prefixes ?? ['/v1']) {
    routes[`POST ${prefix}/chat/completions`] = chat;
    routes[`POST ${prefix}/responses`] = responses;
    routes[`GET ${prefix}/models`] = models;
  }
  return new FakeVendorServer({ ...routes, ...options.extraRoutes });
}

/** Start a fake OpenAI-compatible server on 127.0.0.1 (ephemeral port); its base URL is `${url}/v1`. */
export function startOpenAICompatibleServer(options: OpenAICompatibleFakeOptions = {}): Promise<FakeVendorServer> {
  return createOpenAICompatibleServer(options).start();
}

/** Write frames as SSE, pausing between them; stops as soon as the client goes away. */
async function streamFrames(
  res: ServerResponse,
  frames: ReturnType<typeof renderChatCompletionFrames>,
  delayMs: number,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': `req_${Math.random().toString(36).slice(2, 10)}`,
  });
  res.flushHeaders();
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  for (const [n, frame] of frames.entries()) {
    if (n > 0 && delayMs > 0) await delay(delayMs);
    if (gone) return;
    if ('drop' in frame) return void res.socket?.destroy();
    writeSse(res, 'done' in frame ? '[DONE]' : frame.data);
  }
  res.end();
}
