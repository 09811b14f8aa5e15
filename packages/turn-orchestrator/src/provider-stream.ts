import { HarnessError } from '@iii-harness/runtime';
import {
  type AssistantMessage,
  emptyUsage,
  type Message,
  type ProviderStreamEvent,
  providerStreamEvent,
  type ToolSpec,
} from '@iii-harness/types';
import { DeltaCoalescer } from './coalescer.js';
import type { Turn } from './turn.js';

export interface StreamRequest {
  requestId: string;
  messages: Message[];
  tools: ToolSpec[];
}

export interface StreamOutcome {
  message: AssistantMessage;
  /** Set when the provider ended with an `error` event. */
  error?: { code: string; message: string; retryable: boolean };
}

/**
 * Ask the turn's provider for the next assistant message: open a data channel, call
 * `provider::<id>::stream` with its writer, and read the normalized events until the terminal
 * one, turning deltas into coalesced `message_update` events on the way.
 */
export async function streamAssistant(turn: Turn, request: StreamRequest): Promise<StreamOutcome> {
  const { bus, config } = turn.deps;
  const record = turn.record;
  const channel = await bus.createChannel();
  const coalescer = new DeltaCoalescer((event) => turn.emit(event), config.coalesce_ms, config.coalesce_chars);
  let terminal: ProviderStreamEvent | undefined;
  const ended = new Promise<void>((resolve) => {
    channel.reader.onMessage((raw) => {
      let event: ProviderStreamEvent;
      try {
        event = providerStreamEvent.parse(JSON.parse(raw));
      } catch {
        turn.logger.warn('ignoring a malformed provider event');
        return;
      }
      if (terminal) return;
      coalescer.push(event);
      if (event.type === 'done' || event.type === 'error') {
        terminal = event;
        resolve();
      }
    });
    channel.reader.stream.on('close', () => resolve());
    channel.reader.stream.on('end', () => resolve());
    channel.reader.stream.on('error', () => resolve());
  });
  try {
    const call = bus.call(
      `provider::${record.provider}::stream`,
      {
        request_id: request.requestId,
        model: record.model,
        messages: request.messages,
        ...(record.system_prompt ? { system: record.system_prompt } : {}),
        ...(request.tools.length ? { tools: request.tools } : {}),
        ...(record.max_output_tokens ? { max_tokens: record.max_output_tokens } : {}),
        channel: channel.writerRef,
      },
      { timeoutMs: config.provider_timeout_ms },
    );
    // The reader connects only once its stream is read (text messages arrive through onMessage).
    // Started after the call has left, its socket opens while the provider works; the engine holds
    // what the writer sends until it is there.
    channel.reader.stream.resume();
    await call;
    // The call returned: the terminal event is in flight or the channel is closing.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  } catch (error) {
    channel.reader.close();
    // The provider worker is gone or the bus hiccuped: let the queue run the step again.
    if (error instanceof HarnessError && (error.code === 'unavailable' || error.code === 'timeout')) throw error;
    if (error instanceof HarnessError && error.reason === 'function_not_found')
      throw new HarnessError(
        'provider_error',
        `provider ${record.provider} is not available (no worker registered provider::${record.provider}::stream)`,
        { reason: 'provider_missing' },
      );
    throw error;
  } finally {
    await coalescer.flush();
  }
  channel.reader.close();
  if (terminal?.type === 'done') return { message: terminal.message };
  if (terminal?.type === 'error') {
    const partial = terminal.partial ?? {
      role: 'assistant',
      content: [],
      provider: record.provider,
      model: record.model,
      usage: emptyUsage(),
      stop_reason: 'error',
    };
    return {
      message: { ...partial, stop_reason: 'error', error_message: terminal.message },
      error: { code: terminal.code, message: terminal.message, retryable: terminal.retryable },
    };
  }
  throw new HarnessError('unavailable', `provider ${record.provider} closed the stream without a final event`, {
    reason: 'stream_incomplete',
  });
}
