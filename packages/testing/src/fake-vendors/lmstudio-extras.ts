import { createOpenAICompatibleServer, type OpenAICompatibleFakeOptions, sendJson } from './openai-compatible.js';
import type { FakeVendorServer, Route } from './server.js';

/**
 * A model as LM Studio's REST API lists it (`GET /api/v0/models`, LM Studio ≥ 0.3.6): every
 * downloaded model, loaded or not, with its maximum context.
 */
export interface LmStudioModel {
  id: string;
  object: 'model';
  type: 'llm' | 'vlm' | 'embeddings';
  publisher: string;
  arch: string;
  compatibility_type: 'gguf' | 'mlx';
  quantization: string;
  state: 'loaded' | 'not-loaded';
  max_context_length: number;
  /** Present while loaded (newer LM Studio builds report the context it was loaded with). */
  loaded_context_length?: number;
  /** Newer builds list e.g. `tool_use`. */
  capabilities?: string[];
}

export const defaultLmStudioModels: LmStudioModel[] = [
  {
    id: 'qwen2.5-7b-instruct',
    object: 'model',
    type: 'llm',
    publisher: 'lmstudio-community',
    arch: 'qwen2',
    compatibility_type: 'gguf',
    quantization: 'Q4_K_M',
    state: 'loaded',
    max_context_length: 32_768,
    loaded_context_length: 8_192,
    capabilities: ['tool_use'],
  },
  {
    id: 'qwen2-vl-7b-instruct',
    object: 'model',
    type: 'vlm',
    publisher: 'mlx-community',
    arch: 'qwen2_vl',
    compatibility_type: 'mlx',
    quantization: '4bit',
    state: 'not-loaded',
    max_context_length: 32_768,
    capabilities: ['tool_use'],
  },
  {
    id: 'text-embedding-nomic-embed-text-v1.5',
    object: 'model',
    type: 'embeddings',
    publisher: 'nomic-ai',
    arch: 'nomic-bert',
    compatibility_type: 'gguf',
    quantization: 'Q4_0',
    state: 'not-loaded',
    max_context_length: 2_048,
  },
];

/** The fake LM Studio: OpenAI-compatible routes under /v1 plus the REST model list and load/unload. */
export interface FakeLmStudioServer extends FakeVendorServer {
  lmstudio: { models: LmStudioModel[]; instances: Map<string, { model: string; context_length?: number }> };
}

/**
 * Routes as LM Studio documents them (assumptions where the docs are silent are marked):
 * - `GET /api/v0/models` → `{object: 'list', data: LmStudioModel[]}`.
 * - `POST /api/v1/models/load {model, context_length?, echo_load_config?, …}` →
 *   `{type: 'llm'|'embedding', instance_id, load_time_seconds, status: 'loaded', load_config?}`;
 *   a second load of the same model gets instance id `<model>:2` (as LM Studio names extra
 *   instances). Unknown model → 404 `{error: {message, type: 'model_not_found'}}` (assumed shape).
 * - `POST /api/v1/models/unload {instance_id}` → `{instance_id}`; unknown instance → 404 (assumed).
 * Tool-call argument deltas after the first carry `name: ""` (LM Studio's quirk).
 */
export function createLmStudioServer(
  options: Omit<OpenAICompatibleFakeOptions, 'models'> & { lmModels?: LmStudioModel[] } = {},
): FakeLmStudioServer {
  const state = {
    models: structuredClone(options.lmModels ?? defaultLmStudioModels),
    instances: new Map<string, { model: string; context_length?: number }>(),
  };
  for (const m of state.models)
    if (m.state === 'loaded') state.instances.set(m.id, { model: m.id, context_length: m.loaded_context_length });

  const list: Route = (_req, res) => sendJson(res, 200, { object: 'list', data: state.models });
  const load: Route = (_req, res, body) => {
    const { model, context_length, echo_load_config } = (body ?? {}) as {
      model?: unknown;
      context_length?: number;
      echo_load_config?: boolean;
    };
    const entry = state.models.find((m) => m.id === model);
    if (!entry)
      return sendJson(res, 404, { error: { message: `Model '${String(model)}' not found`, type: 'model_not_found' } });
    let instanceId = entry.id;
    for (let n = 2; state.instances.has(instanceId); n++) instanceId = `${entry.id}:${n}`;
    state.instances.set(instanceId, { model: entry.id, context_length });
    entry.state = 'loaded';
    entry.loaded_context_length = context_length ?? entry.max_context_length;
    sendJson(res, 200, {
      type: entry.type === 'embeddings' ? 'embedding' : 'llm',
      instance_id: instanceId,
      load_time_seconds: 0.01,
      status: 'loaded',
      ...(echo_load_config ? { load_config: { context_length: entry.loaded_context_length } } : {}),
    });
  };
  const unload: Route = (_req, res, body) => {
    const instanceId = (body as { instance_id?: unknown } | undefined)?.instance_id;
    const instance = typeof instanceId === 'string' ? state.instances.get(instanceId) : undefined;
    if (!instance)
      return sendJson(res, 404, {
        error: { message: `No loaded model instance '${String(instanceId)}'`, type: 'model_not_found' },
      });
    state.instances.delete(instanceId as string);
    if (![...state.instances.values()].some((i) => i.model === instance.model)) {
      const entry = state.models.find((m) => m.id === instance.model)!;
      entry.state = 'not-loaded';
      delete entry.loaded_context_length;
    }
    sendJson(res, 200, { instance_id: instanceId });
  };

  const server = createOpenAICompatibleServer({
    models: state.models.map((m) => ({ id: m.id, object: 'model', owned_by: 'organization_owner' })),
    laterToolDeltas: 'empty_name',
    ...options,
    extraRoutes: {
      'GET /api/v0/models': list,
      'POST /api/v1/models/load': load,
      'POST /api/v1/models/unload': unload,
      ...options.extraRoutes,
    },
  });
  return Object.assign(server, { lmstudio: state });
}

export function startLmStudioServer(
  options: Parameters<typeof createLmStudioServer>[0] = {},
): Promise<FakeLmStudioServer> {
  const server = createLmStudioServer(options);
  return server.start().then(() => server);
}
