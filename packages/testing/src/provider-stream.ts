import {
  type Bus,
  openProviderStream as openStream,
  type ProviderStreamRequest,
  type ProviderStreamResult as RuntimeResult,
  type ProviderStreamRun as RuntimeRun,
} from '@iii-harness/runtime';

/**
 * Tests read provider streams through runtime's reader — the one the turn orchestrator uses — so
 * the conformance suite tests the client production runs. These wrappers only loosen the types
 * (a test may send a malformed request on purpose, and reads events as plain objects) and read to
 * the channel's close, so a provider that writes past its terminal event is seen doing it.
 */

/** A provider stream event as it arrived on the channel (see @iii-harness/types `providerStreamEvent`). */
export interface ProviderEvent {
  type: string;
  [key: string]: unknown;
}

export type ProviderStreamResult<E extends ProviderEvent = ProviderEvent> = RuntimeResult<E>;
export type ProviderStreamRun<E extends ProviderEvent = ProviderEvent> = RuntimeRun<E>;

export interface ProviderStreamOptions {
  /** Bound on the provider call (default 10 s). */
  timeoutMs?: number;
  /** Called as each valid event arrives (benchmarks time the first delta here). */
  onEvent?(event: ProviderEvent): void;
}

export function openProviderStream<E extends ProviderEvent = ProviderEvent>(
  bus: Bus,
  providerId: string,
  request: Record<string, unknown>,
  options: ProviderStreamOptions = {},
): ProviderStreamRun<E> {
  return openStream<E>(bus, providerId, request as ProviderStreamRequest, {
    timeoutMs: options.timeoutMs,
    onEvent: options.onEvent as ((event: unknown) => void) | undefined,
    settleMs: options.timeoutMs ?? 10_000,
    readToClose: true,
  });
}

/** Stream one request to the end: `{events, terminal, result | error, malformed}`. */
export function streamFromProvider<E extends ProviderEvent = ProviderEvent>(
  bus: Bus,
  providerId: string,
  request: Record<string, unknown>,
  options: ProviderStreamOptions = {},
): Promise<ProviderStreamResult<E>> {
  return openProviderStream<E>(bus, providerId, request, options).finished;
}
