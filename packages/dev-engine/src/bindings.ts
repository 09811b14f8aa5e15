/**
 * Trigger bindings between originators (who register a trigger) and providers (who implement a
 * trigger type): activation, parking, replay on type (re-)registration, and removal.
 *
 * Fidelity notes (engine v0.22.1):
 * - an unknown type parks the binding silently (no error frame) until the type appears;
 * - an in-process provider that rejects the config answers the originator with a
 *   `triggerregistrationresult` carrying `trigger_registration_failed`; success sends nothing;
 * - a worker-provided type gets the `registertrigger` frame fire-and-forget, and the binding is
 *   active immediately; an error ack from the type's owner parks it and is forwarded.
 */
import type { Logger } from 'pino';
import type { WorkerConnection } from './connection.js';
import type { TriggerBinding } from './engine-api.js';
import { EngineError } from './engine-api.js';
import type { ErrorBody, TriggerRegistrationResultFrame } from './protocol/frames.js';
import * as out from './protocol/outbound.js';
import {
  type BindingEntry,
  knownTriggerTypeProvider,
  TriggerRegistry,
  type TriggerTypeEntry,
} from './registry/triggers.js';

/** How long `engine::register_trigger` waits for a worker provider's ack before failing open. */
const REGISTRATION_ACK_TIMEOUT_MS = 10_000;

export class Bindings {
  readonly registry = new TriggerRegistry();
  private readonly ackWaiters = new Map<string, (error: ErrorBody | undefined) => void>();

  constructor(private readonly logger: Logger) {}

  /**
   * Activate (or park) a binding. Resolves once an in-process provider accepted it; rejects
   * with `trigger_registration_failed` if that provider refused it (the caller reports it).
   */
  async activate(entry: BindingEntry): Promise<void> {
    const { binding } = entry;
    await this.removeExisting(binding.id);
    const type = this.registry.types.get(binding.trigger_type);
    if (!type) {
      this.park(entry, 'PENDING');
      return;
    }
    await this.deliver(type, entry);
  }

  /** Remove a binding by id, wherever it is; no ownership check (any connection may do it). */
  async remove(id: string): Promise<boolean> {
    const wasPending = this.registry.pending.delete(id);
    const entry = this.registry.active.get(id);
    if (!entry) return wasPending;
    this.registry.active.delete(id);
    await this.detach(entry);
    return true;
  }

  /** Register or replace a trigger type, then replay its live bindings and activate parked ones. */
  async installType(type: TriggerTypeEntry): Promise<void> {
    this.sweepOrphanedIntents();
    const previous = this.registry.types.get(type.id);
    this.registry.types.set(type.id, type);
    const live = this.registry.activeOfType(type.id);
    if (previous?.provider.kind === 'builtin') {
      for (const entry of live)
        await this.safely(
          () => previous.provider.kind === 'builtin' && previous.provider.impl.unregisterTrigger(entry.binding),
        );
    }
    const parked = this.registry.pendingOfType(type.id);
    for (const entry of parked) this.registry.pending.delete(entry.binding.id);
    for (const entry of [...live, ...parked]) {
      try {
        await this.deliver(type, entry);
      } catch (error) {
        this.reportRejection(entry, (error as Error).message);
      }
    }
  }

  /** A provider answered a `registertrigger`; only the type's current owner is listened to. */
  onRegistrationResult(from: WorkerConnection, frame: TriggerRegistrationResultFrame): void {
    const type = this.registry.types.get(frame.trigger_type);
    if (type?.provider.kind !== 'worker' || type.provider.conn !== from) return;
    this.ackWaiters.get(frame.id)?.(frame.error);
    if (!frame.error) return;
    const entry = this.registry.active.get(frame.id);
    if (!entry) return;
    this.registry.active.delete(frame.id);
    this.park(entry, 'DISABLED');
    entry.owner?.send(
      out.triggerRegistrationResult(frame.id, frame.trigger_type, entry.binding.function_id, frame.error),
    );
  }

  /** `engine::register_trigger` on a worker-provided type: wait (bounded) for the provider's ack. */
  waitForAck(id: string): Promise<ErrorBody | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), REGISTRATION_ACK_TIMEOUT_MS);
      timer.unref();
      const done = (error: ErrorBody | undefined) => {
        clearTimeout(timer);
        this.ackWaiters.delete(id);
        resolve(error);
      };
      this.ackWaiters.set(id, done);
    });
  }

  /**
   * Disconnect steps 3-5: remove the connection's own bindings (telling providers), drop its
   * parked intents, remove the types it provided and park everyone's bindings of them.
   */
  async releaseConnection(conn: WorkerConnection): Promise<void> {
    const { registry } = this;
    for (const entry of registry.ownedBy(conn, registry.active)) {
      registry.active.delete(entry.binding.id);
      await this.detach(entry, conn);
    }
    for (const entry of registry.ownedBy(conn, registry.pending)) registry.pending.delete(entry.binding.id);
    for (const type of registry.typesProvidedBy(conn)) {
      registry.types.delete(type.id);
      for (const entry of registry.activeOfType(type.id)) {
        registry.active.delete(entry.binding.id);
        this.park(entry, 'DISABLED');
      }
    }
  }

  private async deliver(type: TriggerTypeEntry, entry: BindingEntry): Promise<void> {
    if (type.provider.kind === 'worker') {
      this.registry.active.set(entry.binding.id, entry);
      type.provider.conn.send(out.registerTrigger(entry.binding));
      return;
    }
    try {
      await type.provider.impl.registerTrigger(entry.binding);
    } catch (error) {
      throw new EngineError('trigger_registration_failed', error instanceof Error ? error.message : String(error));
    }
    this.registry.active.set(entry.binding.id, entry);
  }

  private async removeExisting(id: string): Promise<void> {
    this.registry.pending.delete(id);
    const old = this.registry.active.get(id);
    if (!old) return;
    this.registry.active.delete(id);
    await this.detach(old);
  }

  /** Tell the provider a binding is gone (unless the provider is the one leaving). */
  private async detach(entry: BindingEntry, leaving?: WorkerConnection): Promise<void> {
    const type = this.registry.types.get(entry.binding.trigger_type);
    if (!type) return;
    if (type.provider.kind === 'worker') {
      if (type.provider.conn !== leaving)
        type.provider.conn.send(out.unregisterTrigger(entry.binding.id, entry.binding.trigger_type));
      return;
    }
    const impl = type.provider.impl;
    await this.safely(() => impl.unregisterTrigger(entry.binding));
  }

  private park(entry: BindingEntry, why: 'PENDING' | 'DISABLED'): void {
    this.registry.pending.set(entry.binding.id, entry);
    const { binding } = entry;
    const hint = knownTriggerTypeProvider(binding.trigger_type);
    this.logger.warn(
      { trigger_id: binding.id, trigger_type: binding.trigger_type, function_id: binding.function_id },
      `[${why}] trigger waits for trigger type "${binding.trigger_type}"${hint ? ` (run: iii worker add ${hint})` : ''}`,
    );
  }

  /** A replayed binding that an in-process provider now refuses: tell its originator, keep it parked. */
  private reportRejection(entry: BindingEntry, message: string): void {
    this.registry.pending.set(entry.binding.id, entry);
    const { binding } = entry;
    this.logger.warn(
      { trigger_id: binding.id, trigger_type: binding.trigger_type, error: message },
      'trigger registration failed on replay',
    );
    entry.owner?.send(
      out.triggerRegistrationResult(binding.id, binding.trigger_type, binding.function_id, {
        code: 'trigger_registration_failed',
        message,
      }),
    );
  }

  /** Parked intents of workers that are gone are swept before a type (re-)registers. */
  private sweepOrphanedIntents(): void {
    for (const [id, entry] of this.registry.pending) if (entry.owner?.cleanedUp) this.registry.pending.delete(id);
  }

  private async safely(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.logger.warn({ err: error }, 'trigger provider failed to unregister a binding');
    }
  }
}

export function bindingOf(
  frame: { id: string; trigger_type: string; function_id: string; config: unknown; metadata?: unknown },
  workerId?: string,
): TriggerBinding {
  const binding: TriggerBinding = {
    id: frame.id,
    trigger_type: frame.trigger_type,
    function_id: frame.function_id,
    config: frame.config,
  };
  if (frame.metadata !== undefined) binding.metadata = frame.metadata as Record<string, unknown>;
  if (workerId !== undefined) binding.worker_id = workerId;
  return binding;
}
