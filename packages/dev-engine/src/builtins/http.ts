/**
 * `iii-http`: the `http` trigger type and its HTTP server (default 127.0.0.1:3111).
 *
 * Per request: match the route (404 `{"error":{"code":"NOT_FOUND",...}}` otherwise), run global
 * preHandler middleware, open a request-body channel and a response channel, check the
 * route's condition (422), run route middleware, then call the function and race its result
 * against the response channel:
 * - a result (any value) is an HttpResponse `{status_code?, headers?, body?}` -> sent as is;
 * - otherwise the response is streamed from the channel: `set_status` / `set_headers` text
 *   frames first, then binary chunks until the worker closes the channel.
 * A handler error is a 500 with `error_id`; no response within `default_timeout` is a 504.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EngineApi } from '../engine-api.js';
import { isPlainObject, toErrorBody } from '../errors.js';
import { exceedsDepth } from '../security/json-depth.js';
import { listen } from '../server.js';
import type { ChannelManager } from './channels.js';
import { configString } from './conditions.js';
import type { Route, RouteTable } from './http-routes.js';

export interface HttpConfig {
  port?: number;
  host?: string;
  /** Milliseconds before an unanswered request gets a 504 (default 30000). */
  default_timeout?: number;
  concurrency_request_limit?: number;
  cors?: { allowed_origins?: string[]; allowed_methods?: string[] };
  middleware?: Array<{ function_id: string; phase?: string; priority?: number }>;
}

/** Input limits of the HTTP trigger port (engine-wide, not config.yaml keys). */
export interface HttpLimits {
  /** Largest JSON request body read into `body` (413 above it). */
  maxBodyBytes: number;
  /** A JSON body nested deeper than this is treated like invalid JSON (`body: null`). */
  maxJsonDepth: number;
}

/** Concurrent connections on the HTTP port; with the worker port's limit it stays under 1,024 descriptors. */
const HTTP_MAX_CONNECTIONS = 256;

export interface HttpServerHandle {
  port: number;
  close(): Promise<void>;
}

type Headers = Record<string, string>;

/** The engine's error id: the low 48 bits of the current time in nanoseconds, in hex. */
function errorId(): string {
  return (process.hrtime.bigint() & 0xffffffffffffn).toString(16);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** `HttpResponse::from_function_return` + `into_axum_response`. */
function sendFunctionResponse(res: ServerResponse, value: unknown, extra: Headers): void {
  const v = isPlainObject(value) ? value : {};
  const status =
    typeof v.status_code === 'number' && Number.isInteger(v.status_code) && v.status_code >= 100 && v.status_code <= 999
      ? v.status_code
      : 200;
  const headers: Array<[string, string]> = [];
  if (Array.isArray(v.headers)) {
    for (const line of v.headers) {
      if (typeof line !== 'string' || !line.includes(':')) continue;
      const name = line.slice(0, line.indexOf(':')).trim();
      if (name) headers.push([name, line.slice(line.indexOf(':') + 1).trim()]);
    }
  } else if (isPlainObject(v.headers)) {
    for (const [k, val] of Object.entries(v.headers)) if (typeof val === 'string') headers.push([k, val]);
  }
  const body = 'body' in v ? v.body : {};
  const contentType = headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  let payload: string;
  if (contentType !== undefined && typeof body === 'string') payload = body;
  else if (contentType !== undefined && body === null) payload = '';
  else if (contentType !== undefined && !contentType.toLowerCase().includes('application/json'))
    payload = JSON.stringify(body);
  else {
    payload = JSON.stringify(body ?? null);
    if (contentType === undefined) headers.push(['content-type', 'application/json']);
  }
  const flat: Array<[string, string]> = [...Object.entries(extra), ...headers];
  try {
    res.writeHead(status, flat.flat() as unknown as Headers);
  } catch {
    res.writeHead(status, extra); // an invalid header name or value: skip the user headers
  }
  res.end(payload);
}

/** Single-valued maps, last value wins (the engine collects into a HashMap). */
function headerMap(req: IncomingMessage): Headers {
  const out: Headers = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) out[req.rawHeaders[i]!.toLowerCase()] = req.rawHeaders[i + 1]!;
  return out;
}

function queryMap(url: URL): Headers {
  const out: Headers = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

export function installHttpTrigger(api: EngineApi, routes: RouteTable): void {
  api.registerTriggerType('http', 'HTTP API trigger', {
    worker: 'iii-http',
    registerTrigger: (binding) => {
      const apiPath = configString(binding.config, 'api_path');
      if (apiPath === undefined) throw new Error('http trigger config requires `api_path`');
      const method = (configString(binding.config, 'http_method') ?? 'GET').toUpperCase();
      const mw = isPlainObject(binding.config) ? binding.config.middleware_function_ids : undefined;
      routes.add({
        method,
        apiPath,
        functionId: binding.function_id,
        conditionFunctionId: configString(binding.config, 'condition_function_id'),
        middlewareFunctionIds: Array.isArray(mw) ? mw.filter((x): x is string => typeof x === 'string') : [],
        triggerId: binding.id,
        workerId: binding.worker_id,
      });
    },
    unregisterTrigger: (binding) => routes.removeByTrigger(binding.id, binding.worker_id),
  });
}

export async function startHttpServer(
  api: EngineApi,
  routes: RouteTable,
  channels: ChannelManager,
  config: HttpConfig,
  limits: HttpLimits = { maxBodyBytes: 64 * 1024 * 1024, maxJsonDepth: 128 },
): Promise<HttpServerHandle> {
  const timeoutMs = config.default_timeout ?? 30_000;
  const limiter = new Semaphore(config.concurrency_request_limit ?? 1024);
  const globalMiddleware = [...(config.middleware ?? [])]
    .filter((m) => (m.phase ?? 'preHandler') === 'preHandler')
    .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));

  // No `cors` section, no CORS headers: a page on another site may send a request but never
  // read the answer. With `cors`, only the listed origins (or `*`) are allowed.
  const corsHeaders = (req: IncomingMessage): Headers => {
    const origin = req.headers.origin;
    const allowed = config.cors?.allowed_origins;
    if (!origin || !allowed) return {};
    if (allowed.includes('*')) return { 'access-control-allow-origin': '*' };
    if (!allowed.includes(origin)) return {};
    return { 'access-control-allow-origin': origin, vary: 'origin' };
  };

  /** Runs a preHandler middleware; returns true when it answered the request itself. */
  const runMiddleware = async (fnId: string, input: unknown, res: ServerResponse, cors: Headers): Promise<boolean> => {
    let result: unknown;
    try {
      result = await api.call(fnId, input);
    } catch (error) {
      sendJson(res, 500, { error: { ...toErrorBody(error), error_id: errorId() } }, cors);
      return true;
    }
    if (isPlainObject(result) && result.action === 'respond') {
      const r = isPlainObject(result.response) ? result.response : {};
      const extra: Headers = { ...cors };
      if (isPlainObject(r.headers))
        for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') extra[k] = v;
      sendJson(res, typeof r.status_code === 'number' ? r.status_code : 200, r.body ?? null, extra);
      return true;
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://engine');
    const method = (req.method ?? 'GET').toUpperCase();
    const cors = corsHeaders(req);
    if (config.cors && method === 'OPTIONS' && req.headers['access-control-request-method'] && req.headers.origin) {
      const methods = config.cors?.allowed_methods?.join(', ') ?? '*';
      res
        .writeHead(200, {
          ...cors,
          'access-control-allow-methods': methods,
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        })
        .end();
      return;
    }
    const match = routes.match(method, url.pathname);
    if (match === 'method') return void res.writeHead(405, cors).end();
    if (!match) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'Not Found' } }, cors);

    await limiter.acquire();
    let finished = false;
    const timer = setTimeout(() => {
      if (finished) return;
      finished = true;
      if (!res.headersSent) res.writeHead(504, cors).end();
      cleanup();
    }, timeoutMs);
    const created: string[] = [];
    const cleanup = () => {
      clearTimeout(timer);
      for (const id of created) channels.remove(id);
      created.length = 0;
    };
    res.on('close', () => {
      if (!finished) finished = true;
      cleanup();
    });
    try {
      await serveRoute(
        req,
        res,
        url,
        method,
        match.route,
        match.params,
        cors,
        created,
        () => finished,
        () => {
          finished = true;
          clearTimeout(timer);
        },
      );
    } finally {
      limiter.release();
    }
  };

  const serveRoute = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    route: Route,
    params: Record<string, string>,
    cors: Headers,
    created: string[],
    isFinished: () => boolean,
    markResponding: () => void,
  ): Promise<void> => {
    const headers = headerMap(req);
    const query_params = queryMap(url);
    const mwInput = {
      phase: 'preHandler',
      request: { path_params: params, query_params, headers, method },
      context: {},
    };
    for (const mw of globalMiddleware)
      if (await runMiddleware(mw.function_id, mwInput, res, cors)) return markResponding();

    const reqChannel = channels.create(64);
    const resChannel = channels.create(64);
    created.push(reqChannel.channel.id, resChannel.channel.id);
    reqChannel.channel.writerTaken = true;
    resChannel.channel.readerTaken = true;

    const contentType = headers['content-type'] ?? '';
    let body: unknown = null;
    if (contentType.includes('application/json')) {
      const raw = await readBody(req, limits.maxBodyBytes);
      if (raw === undefined) {
        markResponding();
        return sendJson(res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' } }, cors);
      }
      body = parseJsonBody(raw, limits.maxJsonDepth);
      if (raw.length) reqChannel.channel.push(true, raw);
      reqChannel.channel.endWriter();
    } else {
      req.on('data', (chunk: Buffer) => {
        if (!reqChannel.channel.push(true, chunk)) req.pause();
      });
      reqChannel.channel.onWritable = () => req.resume();
      req.on('end', () => reqChannel.channel.endWriter());
    }

    const request = {
      query_params,
      path_params: params,
      headers,
      path: route.apiPath,
      method,
      body,
      trigger: { type: 'http', path: route.apiPath, method },
      request_body: reqChannel.reader,
      response: resChannel.writer,
    };

    if (route.conditionFunctionId) {
      const { request_body: _rb, response: _r, ...conditionInput } = request;
      try {
        if ((await api.call(route.conditionFunctionId, conditionInput)) === false) {
          markResponding();
          return sendJson(
            res,
            422,
            { error: { code: 'CONDITION_NOT_MET', message: 'Request condition not met' }, skipped: true },
            cors,
          );
        }
      } catch (error) {
        markResponding();
        return sendJson(res, 500, { error: { ...toErrorBody(error), error_id: errorId() } }, cors);
      }
    }
    for (const mwId of route.middlewareFunctionIds)
      if (await runMiddleware(mwId, mwInput, res, cors)) return markResponding();
    if (isFinished()) return;

    // Race the function's result against the response channel.
    let status = 200;
    const streamHeaders: Headers = {};
    let streaming = false;
    const startStreaming = () => {
      if (streaming || isFinished()) return false;
      streaming = true;
      markResponding();
      try {
        res.writeHead(status, { ...cors, ...streamHeaders });
      } catch {
        res.writeHead(status, cors);
      }
      return true;
    };
    resChannel.channel.attachReader({
      item: (isBinary, payload) => {
        if (!isBinary) {
          if (!streaming) applyControlMessage(payload.toString(), (s) => (status = s), streamHeaders);
          return;
        }
        if (streaming || startStreaming()) res.write(payload);
      },
      end: () => {
        if (!streaming) startStreaming();
        if (streaming) res.end();
      },
    });

    api.call(route.functionId, request).then(
      (result) => {
        if (streaming || isFinished() || result === undefined) return; // no result: the channel answers
        markResponding();
        sendFunctionResponse(res, result, cors);
      },
      (error: unknown) => {
        if (streaming || isFinished()) return;
        markResponding();
        const body = toErrorBody(error);
        api.logger.error({ function_id: route.functionId, error: body }, 'http handler failed');
        sendJson(res, 500, { error: { ...body, error_id: errorId() } }, cors);
      },
    );
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      api.logger.error({ err: error }, 'http request failed');
      sendJson(res, 500, { error: { code: 'internal_error', message: 'internal server error', error_id: errorId() } });
    });
  });
  server.maxConnections = HTTP_MAX_CONNECTIONS;
  await listen(server, config.host ?? '127.0.0.1', config.port ?? 3111);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (config.port ?? 3111);
  api.logger.info({ host: config.host, port }, 'http triggers listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function applyControlMessage(text: string, setStatus: (s: number) => void, headers: Headers): void {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return;
  }
  if (!isPlainObject(msg)) return;
  if (
    msg.type === 'set_status' &&
    typeof msg.status_code === 'number' &&
    msg.status_code >= 100 &&
    msg.status_code <= 599
  )
    setStatus(msg.status_code);
  else if (msg.type === 'set_headers' && isPlainObject(msg.headers)) {
    for (const [k, v] of Object.entries(msg.headers)) if (typeof v === 'string') headers[k] = v;
  }
}

/** The whole body, or undefined (and the request is drained and dropped) once it passes `maxBytes`. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        chunks.length = 0;
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Invalid JSON, and JSON nested past the limit (which serde rejects too), become `null`. */
function parseJsonBody(raw: Buffer, maxDepth: number): unknown {
  if (raw.length === 0) return null;
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return exceedsDepth(value, maxDepth) ? null : value;
  } catch {
    return null;
  }
}
