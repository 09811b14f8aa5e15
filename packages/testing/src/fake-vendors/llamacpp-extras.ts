import type { ServerResponse } from 'node:http';
import { createOpenAICompatibleServer, type OpenAICompatibleFakeOptions, sendJson } from './openai-compatible.js';
import type { FakeVendorServer, Route } from './server.js';

/** llama.cpp's answer while the model loads (on /health and on every inference route). */
export const LLAMACPP_LOADING_BODY = { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } };

export interface LlamaCppFakeState {
  /** Requests still to answer with 503 "Loading model" (each 503 counts one down). */
  loadingRemaining: number;
  n_ctx: number;
  model_path: string;
  /** `--alias`; llama-server lists the model under it (else under the path). */
  alias?: string;
}

export interface FakeLlamaCppServer extends FakeVendorServer {
  llamacpp: LlamaCppFakeState;
}

/**
 * A fake `llama-server`: one model per process, OpenAI-compatible routes at `/v1/...` and at the
 * root (`/chat/completions`, `/models`, as llama-server aliases them), plus
 * - `GET /health` → 503 `{error: {code: 503, message: 'Loading model', type: 'unavailable_error'}}`
 *   while loading, then 200 `{status: 'ok'}`;
 * - `GET /props` → `{default_generation_settings: {n_ctx, …}, total_slots, model_path, …}`;
 * - `GET /v1/models` → `{object: 'list', data: [{id, object: 'model', owned_by: 'llamacpp', meta}]}`.
 * Usage rides on the finish chunk (top-level `usage`), as llama-server sends it.
 */
export function createLlamaCppServer(
  options: Omit<OpenAICompatibleFakeOptions, 'models' | 'gate'> & Partial<LlamaCppFakeState> = {},
): FakeLlamaCppServer {
  const state: LlamaCppFakeState = {
    loadingRemaining: options.loadingRemaining ?? 0,
    n_ctx: options.n_ctx ?? 8_192,
    model_path: options.model_path ?? '/models/qwen2.5-7b-instruct-q4_k_m.gguf',
    ...(options.alias ? { alias: options.alias } : {}),
  };
  const loading = (res: ServerResponse): boolean => {
    if (state.loadingRemaining <= 0) return false;
    state.loadingRemaining--;
    sendJson(res, 503, LLAMACPP_LOADING_BODY);
    return true;
  };
  const modelId = () => state.alias ?? state.model_path;

  const health: Route = (_req, res) => void (loading(res) || sendJson(res, 200, { status: 'ok' }));
  const props: Route = (_req, res) =>
    sendJson(res, 200, {
      default_generation_settings: {
        n_ctx: state.n_ctx,
        n_predict: -1,
        model: state.model_path,
        params: { temperature: 0.8, top_k: 40, top_p: 0.95 },
      },
      total_slots: 1,
      model_path: state.model_path,
      chat_template: '{{ messages }}',
      modalities: { vision: false, audio: false },
      build_info: 'b0000-fake',
    });
  const models: Route = (_req, res) =>
    sendJson(res, 200, {
      object: 'list',
      data: [
        {
          id: modelId(),
          object: 'model',
          created: Math.floor(Date.now() / 1000),
          owned_by: 'llamacpp',
          meta: {
            vocab_type: 2,
            n_vocab: 152_064,
            n_ctx_train: 32_768,
            n_embd: 3_584,
            n_params: 7_615_616_512,
            size: 4_677_120_000,
          },
        },
      ],
    });

  const server = createOpenAICompatibleServer({
    usageIn: 'finish_chunk',
    ...options,
    prefixes: ['/v1', ''],
    gate: loading,
    extraRoutes: {
      'GET /health': health,
      'GET /props': props,
      'GET /v1/models': models,
      'GET /models': models,
      ...options.extraRoutes,
    },
  });
  return Object.assign(server, { llamacpp: state });
}

export function startLlamaCppServer(
  options: Parameters<typeof createLlamaCppServer>[0] = {},
): Promise<FakeLlamaCppServer> {
  const server = createLlamaCppServer(options);
  return server.start().then(() => server);
}
