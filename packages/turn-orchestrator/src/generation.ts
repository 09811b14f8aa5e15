import { HarnessError, streamFromProvider } from '@iii-harness/runtime';
import { type AssistantMessage, emptyUsage, type Message, providerStreamEvent } from '@iii-harness/types';
import { DeltaCoalescer } from './coalescer.js';
import { isAbsence } from './patience.js';
import { streamRequestId } from './record.js';
import { toolsFor } from './tools.js';
import type { TurnRun } from './turn.js';

export interface Generation {
  message: AssistantMessage;
  /** Set when the provider ended its stream with an `error` event (`reason`: e.g. `context_overflow`). */
  failure?: { code: string; message: string; retryable: boolean; reason?: string };
}

/**
 * One model call: `provider::<id>::stream` through the one stream reader (runtime), deltas turned
 * into coalesced `message_update` events on the way. A provider that is not there, or whose stream
 * broke off without a final event (its process died), is waited for and asked again (the request
 * id is the generation's own, so a provider sees the same request).
 */
export async function generate(run: TurnRun, messages: Message[], maxTokens?: number): Promise<Generation> {
  const { bus, config } = run.deps;
  const record = run.record;
  const max_tokens = maxTokens ?? record.max_output_tokens;
  const request = {
    request_id: streamRequestId(record),
    model: record.model,
    messages,
    ...(record.system_prompt ? { system: record.system_prompt } : {}),
    ...(toolsFor(record).length ? { tools: toolsFor(record) } : {}),
    ...(max_tokens ? { max_tokens } : {}),
  };
  const functionId = `provider::${record.provider}::stream`;
  const streamed = await run.patient(functionId, async () => {
    const coalescer = new DeltaCoalescer((event) => run.emit(event), config.coalesce_ms, config.coalesce_chars);
    const result = await streamFromProvider(bus, record.provider, request, {
      timeoutMs: config.provider_timeout_ms,
      onEvent: (event) => coalescer.push(event),
    });
    if (result.terminal) {
      await coalescer.finish();
      return { result, terminal: result.terminal };
    }
    await coalescer.flush();
    if (result.error && !isAbsence(result.error)) throw result.error;
    throw new HarnessError(
      'unavailable',
      result.error?.message ?? `provider ${record.provider} closed the stream without a final event`,
      { reason: result.error?.reason ?? 'stream_incomplete' },
    );
  });
  if (streamed.result.malformed.length)
    run.logger.warn({ count: streamed.result.malformed.length }, 'ignored malformed provider events');
  // The reader hands the terminal event as the provider wrote it; parsed here, defaults filled in.
  const terminal = providerStreamEvent.parse(streamed.terminal);
  if (terminal.type === 'done') return { message: terminal.message };
  if (terminal.type !== 'error') throw new HarnessError('internal', `unexpected terminal event ${terminal.type}`);
  const partial = terminal.partial ?? {
    role: 'assistant' as const,
    content: [],
    provider: record.provider,
    model: record.model,
    usage: emptyUsage(),
    stop_reason: 'error' as const,
  };
  return {
    message: { ...partial, stop_reason: 'error', error_message: terminal.message },
    failure: {
      code: terminal.code,
      message: terminal.message,
      retryable: terminal.retryable,
      ...(terminal.reason ? { reason: terminal.reason } : {}),
    },
  };
}
