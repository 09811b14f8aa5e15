import {
  type ContractInput,
  type ContractOutput,
  contracts,
  type ProviderStreamEvent,
  providerStreamEvent,
} from '@iii-harness/types';
import type { Bus } from './bus.js';
import { HarnessError } from './errors.js';

type StreamContract = ReturnType<typeof contracts.provider.stream>;
/** What `provider::<id>::stream` takes, without the channel (the reader makes it). */
export type ProviderStreamRequest = Omit<ContractInput<StreamContract>, 'channel'>;

export interface ProviderStreamOptions {
  /** Bound on the provider call (default 10 s). */
  timeoutMs?: number;
  /** Each valid event as it arrives, up to and including the terminal one. */
  onEvent?(event: ProviderStreamEvent): void;
  /**
   * After the call returned: how long the terminal event (or the channel's close) may take to arrive
   * (default 15 s). Both are on their way by then, so this bounds only a provider that never closes
   * its writer; a short bound misreads a busy process (50 streams at once) as a lost final event,
   * and the turn would ask the model again.
   */
  settleMs?: number;
  /**
   * Keep reading after the terminal event until the provider closes the channel (within `settleMs`),
   * so a provider that writes past its terminal event is seen doing it (conformance tests).
   */
  readToClose?: boolean;
}

export interface ProviderStreamResult<E = ProviderStreamEvent> {
  /** Every message read from the channel that parsed as JSON, in order, as the provider wrote it. */
  events: E[];
  /** The first valid `done` or `error` event (the same object as in `events`). */
  terminal?: E;
  /** What the provider call returned (`{stop_reason, usage}`), unless it failed. */
  result?: ContractOutput<StreamContract>;
  /** Why the call itself failed (e.g. `invalid_payload`, the provider not registered); stream failures arrive as an `error` event. */
  error?: HarnessError;
  /** Messages that are not provider stream events (a provider bug), as received. */
  malformed: string[];
}

export interface ProviderStreamRun<E = ProviderStreamEvent> {
  events: E[];
  /** Resolves with the first event (already arrived or later) that matches. */
  waitFor(match: (event: E) => boolean, timeoutMs?: number): Promise<E>;
  /** Resolves once the call returned and the terminal event arrived (or the channel closed, or `settleMs` passed). */
  finished: Promise<ProviderStreamResult<E>>;
  /** Stop reading (the call is left to finish on its own). */
  close(): void;
}

/**
 * THE reader of a provider stream — the turn orchestrator, the provider conformance suite and the
 * benches all read through it, so what is tested is what production runs. It opens a data
 * channel, calls `provider::<id>::stream` with the writer's ref, and reads the normalized events
 * (one JSON text message each) until the terminal `done` / `error`. The call leaves first: the
 * reader's socket opens while the provider works, and the engine holds what the writer sends until
 * it is there.
 */
export function openProviderStream<E = ProviderStreamEvent>(
  bus: Bus,
  providerId: string,
  request: ProviderStreamRequest,
  options: ProviderStreamOptions = {},
): ProviderStreamRun<E> {
  const events: E[] = [];
  const malformed: string[] = [];
  const waiters: Array<{ match: (event: E) => boolean; resolve: (event: E) => void }> = [];
  let terminal: E | undefined;
  let close = () => {};
  let ended!: () => void;
  const ending = new Promise<void>((resolve) => (ended = resolve));
  let closed!: () => void;
  const closing = new Promise<void>((resolve) => (closed = resolve));

  const receive = (text: string) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      malformed.push(text);
      return;
    }
    events.push(raw as E);
    for (const waiter of [...waiters]) {
      if (!waiter.match(raw as E)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(raw as E);
    }
    const parsed = providerStreamEvent.safeParse(raw);
    if (!parsed.success) return void malformed.push(text);
    if (terminal) return;
    options.onEvent?.(parsed.data);
    if (parsed.data.type === 'done' || parsed.data.type === 'error') {
      terminal = raw as E;
      ended();
    }
  };

  const finished = (async (): Promise<ProviderStreamResult<E>> => {
    const channel = await bus.createChannel();
    close = () => channel.reader.close();
    channel.reader.onMessage(receive);
    for (const event of ['close', 'end', 'error'] as const)
      channel.reader.stream.on(event, () => {
        ended();
        closed();
      });
    const out: ProviderStreamResult<E> = { events, malformed };
    const call = bus.call(
      contracts.provider.stream(providerId),
      { ...request, channel: channel.writerRef } as ContractInput<StreamContract>,
      { timeoutMs: options.timeoutMs ?? 10_000 },
    );
    // Text messages arrive through onMessage once the stream is read: start reading now.
    channel.reader.stream.resume();
    try {
      out.result = await call;
    } catch (error) {
      out.error = error instanceof HarnessError ? error : new HarnessError('internal', String(error));
    }
    // The call returned: the terminal event is in flight, or the channel is closing. A call that
    // failed before writing anything may never have opened the writer: do not wait long for it.
    const settle = out.error && events.length === 0 ? 50 : (options.settleMs ?? 15_000);
    let timer: NodeJS.Timeout | undefined;
    const until = options.readToClose ? closing : ending;
    await Promise.race([until, new Promise((resolve) => (timer = setTimeout(resolve, settle)))]);
    clearTimeout(timer);
    channel.reader.close();
    out.terminal = terminal;
    return out;
  })();

  return {
    events,
    finished,
    close: () => close(),
    waitFor(match, timeoutMs = 5_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<E>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching event from provider::${providerId}::stream within ${timeoutMs} ms (got ${events.map((e) => (e as { type?: string }).type).join(', ') || 'nothing'})`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event);
          },
        });
      });
    },
  };
}

/** Stream one request to the end: `{events, terminal, result | error, malformed}`. */
export function streamFromProvider<E = ProviderStreamEvent>(
  bus: Bus,
  providerId: string,
  request: ProviderStreamRequest,
  options: ProviderStreamOptions = {},
): Promise<ProviderStreamResult<E>> {
  return openProviderStream<E>(bus, providerId, request, options).finished;
}
