import type { Logger } from '@iii-harness/runtime';
import type { Model, ProviderRequest, ResolvedProvider } from '@iii-harness/types';
import OpenAI from 'openai';
import { discoveredModel, type ModelDefaults } from '../discovery.js';
import { type FailureKind, isContextOverflow, ProviderFailure } from '../failures.js';
import { priceFor } from '../pricing.js';
import type { AdapterContext, ProviderAdapter, StreamOutcome } from '../provider-worker.js';
import { type CompatSpec, compatFor } from './compat.js';
import { buildChatCompletionBody } from './request.js';
import { type ChatChunk, ChatChunkMapper } from './stream-mapper.js';

/** What discovery hooks get. */
export interface ListModelsContext {
  settings: ResolvedProvider;
  /** The OpenAI-compatible base URL (…/v1) for these settings. */
  baseUrl: string;
  client: OpenAI;
  signal: AbortSignal;
  logger: Logger;
}

export interface OpenAICompatibleOptions {
  /** Provider id, for pricing lookups. */
  provider: string;
  compat?: CompatSpec;
  /** The SDK's base URL from the resolved `api_url` (default: `api_url` as is). */
  baseUrl?(apiUrl: string): string;
  /** Bearer sent when no key is configured (LM Studio accepts any); without it no Authorization header is sent. */
  placeholderApiKey?: string;
  /** Defaults for models the vendor's list says little about. */
  modelDefaults: ModelDefaults;
  /**
   * What is known of a listed model (`raw` is the vendor's list entry), or `undefined` to leave it
   * out of the catalog (embeddings, audio, image models…). Used by the default discovery.
   */
  describeModel?(id: string, raw: Record<string, unknown>): Partial<Model> | undefined;
  /** Replaces the default discovery (`GET <base>/models`). */
  listModels?(ctx: ListModelsContext): Promise<Model[]>;
}

/** What an adapter built here exposes besides `ProviderAdapter`: the SDK client for given settings. */
export interface OpenAICompatibleAdapter extends ProviderAdapter {
  clientFor(settings: ResolvedProvider): { client: OpenAI; baseUrl: string };
  listModels(ctx: { settings: ResolvedProvider; signal: AbortSignal; logger: Logger }): Promise<Model[]>;
}

/**
 * One adapter for every OpenAI-compatible chat-completions server, configured by data: the
 * official `openai` SDK does the HTTP (with `maxRetries: 0`: the kit retries, and only before the
 * first byte), the request's signal aborts it, and chunks are mapped onto the sink.
 */
export function createOpenAICompatibleAdapter(options: OpenAICompatibleOptions): OpenAICompatibleAdapter {
  const clients = new Map<string, OpenAI>();

  function clientFor(settings: ResolvedProvider): { client: OpenAI; baseUrl: string } {
    const baseUrl = (options.baseUrl ?? ((url: string) => url))(settings.api_url).replace(/\/+$/, '');
    const token = settings.credential.token;
    const key = `${baseUrl}\n${token ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      if (clients.size >= 8) clients.clear(); // settings rarely change; never grow without bound
      client = new OpenAI({
        baseURL: baseUrl,
        apiKey: token ?? options.placeholderApiKey ?? 'none',
        maxRetries: 0,
        // The SDK would print unparsable frames to the console; failures reach the caller as events instead.
        logLevel: 'off',
        // Never pick up OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment for another vendor.
        organization: null,
        project: null,
        ...(!token && !options.placeholderApiKey ? { defaultHeaders: { authorization: null } } : {}),
      });
      clients.set(key, client);
    }
    return { client, baseUrl };
  }

  async function stream(
    request: ProviderRequest,
    { settings, sink, signal, started }: AdapterContext,
  ): Promise<StreamOutcome> {
    const compat = compatFor(options.compat, request.model);
    const body = buildChatCompletionBody(request, compat, settings.max_tokens);
    const { client } = clientFor(settings);
    const mapper = new ChatChunkMapper(sink, priceFor(options.provider, request.model));
    const response = await client.chat.completions.create(
      body as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
      { signal },
    );
    let first = true;
    try {
      for await (const chunk of response) {
        if (first) {
          started();
          first = false;
        }
        mapper.push(chunk as ChatChunk);
      }
    } catch (error) {
      // A cut after the finish (while waiting for the usage chunk or [DONE]) loses nothing but usage.
      if (mapper.finishReason === undefined || signal.aborted) throw midStreamFailure(error);
    }
    // The SDK ends the iteration quietly when aborted.
    if (signal.aborted) throw new ProviderFailure('aborted', 'request aborted');
    if (mapper.finishReason === undefined)
      throw new ProviderFailure(
        'connection',
        `the ${options.provider} stream ended before a finish_reason (connection cut?)`,
      );
    return mapper.finish()!;
  }

  async function listModels({
    settings,
    signal,
    logger,
  }: {
    settings: ResolvedProvider;
    signal: AbortSignal;
    logger: Logger;
  }): Promise<Model[]> {
    const { client, baseUrl } = clientFor(settings);
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(8_000)]);
    if (options.listModels) return options.listModels({ settings, baseUrl, client, signal: bounded, logger });
    const models: Model[] = [];
    for await (const entry of client.models.list({ signal: bounded })) {
      const known = options.describeModel
        ? options.describeModel(entry.id, entry as unknown as Record<string, unknown>)
        : {};
      if (known) models.push(discoveredModel(options.provider, entry.id, options.modelDefaults, known));
    }
    return models;
  }

  return { stream, listModels, clientFor };
}

/**
 * The SDK raises an `{error: {...}}` chunk (or LM Studio's `event: error` frame, whose `error` may
 * be a bare string) as an APIError without status: classify it by the vendor's type and wording.
 */
export function midStreamFailure(error: unknown): unknown {
  const e = error as { status?: number; error?: { message?: string; type?: string; code?: string | number } | string };
  if (e?.status !== undefined || !e?.error) return error;
  const body = typeof e.error === 'string' ? { message: e.error } : e.error;
  if (typeof body !== 'object') return error;
  const tag = `${body.type ?? ''} ${body.code ?? ''}`;
  return new ProviderFailure(midStreamKind(body, tag), `error in the stream: ${body.message ?? tag.trim()}`);
}

function midStreamKind(body: { message?: string; type?: string; code?: string | number }, tag: string): FailureKind {
  if (isContextOverflow(body)) return 'context_overflow';
  if (/rate_limit/.test(tag)) return 'rate_limited';
  if (/overloaded|unavailable|503/.test(tag)) return 'overloaded';
  if (/server_error|internal|500/.test(tag)) return 'server';
  return 'unknown';
}
