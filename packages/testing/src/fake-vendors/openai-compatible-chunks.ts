import { type Scenario, type ScenarioStep, splitText } from './scenario.js';

/**
 * A Scenario rendered as OpenAI chat-completions stream frames, exactly as the wire carries them:
 * `chat.completion.chunk` objects (first the role, then `content` / `reasoning_content` /
 * `tool_calls[{index, id, type, function{name, arguments}}]` deltas, then a chunk with
 * `finish_reason`), the usage, and `[DONE]`.
 */
export type SseFrame = { data: unknown } | { done: true } | { drop: true };

export interface ChunkStyle {
  model: string;
  /** The request asked for `stream_options: {include_usage: true}`. */
  includeUsage: boolean;
  /**
   * Where usage goes: OpenAI sends a last chunk with empty `choices` (only when asked);
   * Moonshot puts it on `choices[0].usage` of the finish chunk; llama.cpp puts a top-level
   * `usage` on the finish chunk.
   */
  usageIn: 'final_chunk' | 'choice' | 'finish_chunk';
  /** Ids for calls a scenario gives none: OpenAI `call_…`, Moonshot `functions.<name>:<n>`. */
  nextToolCallId(name: string): string;
  /** LM Studio sends `name: ""` on later argument deltas; some llama.cpp builds repeat id and name. */
  laterToolDeltas?: 'plain' | 'empty_name' | 'repeat_name';
}

const FINISH: Record<string, string> = {
  end: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  stop_sequence: 'stop',
  refusal: 'stop',
  content_filter: 'content_filter',
};

export function finishReasonOf(scenario: Scenario): string {
  const stop = scenario.stop;
  if (typeof stop === 'object') return stop.raw;
  if (stop) return FINISH[stop]!;
  return scenario.steps?.some((s) => 'tool_call' in s) ? 'tool_calls' : 'stop';
}

/** Wire usage for a scenario: `prompt_tokens` includes cached tokens, as OpenAI counts them. */
export function wireUsageOf(scenario: Scenario, moonshot = false): Record<string, unknown> {
  const u = scenario.usage ?? { input: 10, output: 5 };
  const prompt = u.input + (u.cache_read ?? 0);
  const base = { prompt_tokens: prompt, completion_tokens: u.output, total_tokens: prompt + u.output };
  if (moonshot) return { ...base, cached_tokens: u.cache_read ?? 0 };
  return {
    ...base,
    prompt_tokens_details: { cached_tokens: u.cache_read ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function renderChatCompletionFrames(scenario: Scenario, style: ChunkStyle): SseFrame[] {
  const id = `chatcmpl-${Math.random().toString(36).slice(2, 14)}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (
    delta: Record<string, unknown>,
    extra: { finish_reason?: string; usage?: unknown; choiceUsage?: unknown } = {},
  ) => ({
    data: {
      id,
      object: 'chat.completion.chunk',
      created,
      model: style.model,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          delta,
          logprobs: null,
          finish_reason: extra.finish_reason ?? null,
          ...(extra.choiceUsage ? { usage: extra.choiceUsage } : {}),
        },
      ],
      ...(extra.usage ? { usage: extra.usage } : {}),
    },
  });
  const parts = (text: string) => splitText(text, scenario.split ?? 3);
  const frames: SseFrame[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  const steps = scenario.steps ?? [{ text: 'Hello from the fake server.' }];
  const cutAt = scenario.error_mid_stream?.after_steps ?? scenario.drop_after_steps;

  let toolIndex = 0;
  for (let i = 0; i <= steps.length; ) {
    if (i === cutAt || (i === steps.length && cutAt !== undefined && cutAt > steps.length))
      return [...frames, cutFrame(scenario)];
    if (i === steps.length) break;
    const step = steps[i]!;
    if ('text' in step) frames.push(...parts(step.text).map((p) => chunk({ content: p })));
    else if ('thinking' in step) frames.push(...parts(step.thinking).map((p) => chunk({ reasoning_content: p })));
    if (!('tool_call' in step)) {
      i++;
      continue;
    }
    // Consecutive calls are parallel: their argument deltas interleave by index.
    let end = i;
    while (end < steps.length && 'tool_call' in steps[end]! && (cutAt === undefined || cutAt <= i || end < cutAt))
      end++;
    frames.push(
      ...toolCallFrames(
        steps.slice(i, end) as Array<Extract<ScenarioStep, { tool_call: unknown }>>,
        toolIndex,
        style,
        parts,
        chunk,
      ),
    );
    toolIndex += end - i;
    i = end;
  }

  const usage = wireUsageOf(scenario, style.usageIn === 'choice');
  const finish_reason = finishReasonOf(scenario);
  if (style.usageIn === 'choice') frames.push(chunk({}, { finish_reason, choiceUsage: usage }));
  else if (style.usageIn === 'finish_chunk') frames.push(chunk({}, { finish_reason, usage }));
  else {
    frames.push(chunk({}, { finish_reason }));
    if (style.includeUsage)
      frames.push({
        data: {
          id,
          object: 'chat.completion.chunk',
          created,
          model: style.model,
          system_fingerprint: 'fp_fake',
          choices: [],
          usage,
        },
      });
  }
  frames.push({ done: true });
  return frames;
}

function cutFrame(scenario: Scenario): SseFrame {
  if (!scenario.error_mid_stream) return { drop: true };
  const { message, type } = scenario.error_mid_stream;
  return { data: { error: { message, type: type ?? 'server_error', param: null, code: null } } };
}

function toolCallFrames(
  calls: Array<Extract<ScenarioStep, { tool_call: unknown }>>,
  firstIndex: number,
  style: ChunkStyle,
  parts: (text: string) => string[],
  chunk: (delta: Record<string, unknown>) => SseFrame,
): SseFrame[] {
  const frames: SseFrame[] = [];
  const heads = calls.map(({ tool_call }, n) => ({
    index: firstIndex + n,
    id: tool_call.id ?? style.nextToolCallId(tool_call.name),
    name: tool_call.name,
    pieces: parts(JSON.stringify(tool_call.arguments)),
  }));
  for (const head of heads)
    frames.push(
      chunk({
        tool_calls: [
          { index: head.index, id: head.id, type: 'function', function: { name: head.name, arguments: '' } },
        ],
      }),
    );
  const rounds = Math.max(...heads.map((h) => h.pieces.length));
  for (let round = 0; round < rounds; round++) {
    for (const head of heads) {
      const piece = head.pieces[round];
      if (piece === undefined) continue;
      const fn =
        style.laterToolDeltas === 'empty_name'
          ? { name: '', arguments: piece }
          : style.laterToolDeltas === 'repeat_name'
            ? { name: head.name, arguments: piece }
            : { arguments: piece };
      const extra = style.laterToolDeltas === 'repeat_name' ? { id: head.id, type: 'function' } : {};
      frames.push(chunk({ tool_calls: [{ index: head.index, ...extra, function: fn }] }));
    }
  }
  return frames;
}

/** The same scenario as one non-streamed `chat.completion` object. */
export function renderChatCompletion(scenario: Scenario, style: ChunkStyle): Record<string, unknown> {
  const steps = scenario.steps ?? [{ text: 'Hello from the fake server.' }];
  const text = steps.flatMap((s) => ('text' in s ? [s.text] : [])).join('');
  const reasoning = steps.flatMap((s) => ('thinking' in s ? [s.thinking] : [])).join('');
  const calls = steps.flatMap((s) => ('tool_call' in s ? [s.tool_call] : []));
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2, 14)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: style.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || null,
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          ...(calls.length
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id ?? style.nextToolCallId(c.name),
                  type: 'function',
                  function: { name: c.name, arguments: JSON.stringify(c.arguments) },
                })),
              }
            : {}),
        },
        finish_reason: finishReasonOf(scenario),
      },
    ],
    usage: wireUsageOf(scenario, style.usageIn === 'choice'),
  };
}
