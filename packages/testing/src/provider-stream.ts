import { type Bus, HarnessError } from '@iii-harness/runtime';
import { type ContractInput, contracts } from '@iii-harness/types';

/** A normalized provider stream event as it arrives on the channel (see @iii-harness/types `providerStreamEvent`). */
export interface ProviderEvent {
  type: string;
  [key: string]: unknown;
}

export interface ProviderStreamResult<E extends ProviderEvent = ProviderEvent> {
  /** Every event read from the channel, in order. */
  events: E[];
  /** The `done` or `error` event, when one arrived. */
  terminal?: E;
  /** What `provider::<id>::stream` returned (`{stop_reason, usage}`), unless it failed. */
  result?: { stop_reason: string; usage: Record<string, number> };
  /** Why the call itself failed (e.g. `invalid_payload`); stream failures arrive as an `error` event instead. */
  error?: HarnessError;
}

export interface ProviderStreamRun<E extends ProviderEvent = ProviderEvent> {
  events: E[];
  /** Resolves with the first event (already arrived or later) that matches. */
  waitFor(match: (event: E) => boolean, timeoutMs?: number): Promise<E>;
  /** Resolves once the call returned and the channel closed (or `timeoutMs` passed). */
  finished: Promise<ProviderStreamResult<E>>;
}

export interface ProviderStreamOptions<E extends ProviderEvent> {
  /** Bound on the whole run (default 10 s). */
  timeoutMs?: number;
  /** Called as each event arrives (benchmarks time the first delta here). */
  onEvent?(event: E): void;
}

/**
 * Call `provider::<providerId>::stream` the way the turn orchestrator does: create a data channel,
 * hand the provider its writer ref, and read the events from the reader until the channel closes.
 */
export function openProviderStream<E extends ProviderEvent = ProviderEvent>(
  bus: Bus,
  providerId: string,
  request: Record<string, unknown>,
  options: ProviderStreamOptions<E> = {},
): ProviderStreamRun<E> {
  const events: E[] = [];
  const waiters: Array<{ match: (event: E) => boolean; resolve: (event: E) => void }> = [];
  const finished = (async (): Promise<ProviderStreamResult<E>> => {
    const channel = await bus.createChannel();
    channel.reader.onMessage((text) => {
      const event = JSON.parse(text) as E;
      events.push(event);
      options.onEvent?.(event);
      for (const waiter of [...waiters]) {
        if (!waiter.match(event)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    });
    const timeoutMs = options.timeoutMs ?? 10_000;
    const out: ProviderStreamResult<E> = { events };
    // The call leaves first; the reader's socket (which connects once read) opens while the
    // provider works, and the engine holds what the writer sends until it is there.
    // Any payload goes out as given (tests send malformed ones); the reply is checked against the contract.
    const call = bus.call(
      contracts.provider.stream(providerId),
      { ...request, channel: channel.writerRef } as ContractInput<ReturnType<typeof contracts.provider.stream>>,
      { timeoutMs },
    );
    const closed = channel.reader.readAll().then(
      () => undefined,
      () => undefined,
    );
    try {
      out.result = await call;
    } catch (error) {
      out.error = error instanceof HarnessError ? error : new HarnessError('internal', String(error));
      // A rejected call may never have opened the writer: the channel would not close by itself.
      if (!events.length) channel.reader.close();
    }
    await Promise.race([
      closed,
      new Promise((resolve) => setTimeout(resolve, out.error && !events.length ? 50 : timeoutMs).unref()),
    ]);
    channel.reader.close();
    out.terminal = events.find((e) => e.type === 'done' || e.type === 'error');
    return out;
  })();
  return {
    events,
    finished,
    waitFor(match, timeoutMs = 5_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<E>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching event from provider::${providerId}::stream within ${timeoutMs} ms (got ${events.map((e) => e.type).join(', ') || 'nothing'})`,
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

/** Stream one request to the end: `{events, terminal, result | error}`. */
export function streamFromProvider<E extends ProviderEvent = ProviderEvent>(
  bus: Bus,
  providerId: string,
  request: Record<string, unknown>,
  options: ProviderStreamOptions<E> = {},
): Promise<ProviderStreamResult<E>> {
  return openProviderStream(bus, providerId, request, options).finished;
}
