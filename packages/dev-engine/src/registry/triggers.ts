/**
 * Trigger types and trigger bindings. A type is provided either in-process (a
 * TriggerTypeProvider) or by a worker connection. Bindings are keyed by their id (the worker's
 * own UUID, kept across reconnects); a binding whose type does not exist yet is *parked* and
 * re-activated, with the same id, when the type is registered.
 */

import type { WorkerConnection } from '../connection.js';
import type { TriggerBinding, TriggerTypeProvider } from '../engine-api.js';

export type TypeProvider = { kind: 'builtin'; impl: TriggerTypeProvider } | { kind: 'worker'; conn: WorkerConnection };

export interface TriggerTypeEntry {
  id: string;
  description: string;
  provider: TypeProvider;
  trigger_request_format?: unknown;
  call_request_format?: unknown;
}

/** A binding plus the connection that registered it (no owner = ownerless, survives disconnects). */
export interface BindingEntry {
  binding: TriggerBinding;
  owner?: WorkerConnection;
}

export class TriggerRegistry {
  readonly types = new Map<string, TriggerTypeEntry>();
  /** Active bindings, delivered to their type's provider. */
  readonly active = new Map<string, BindingEntry>();
  /** Parked bindings: their type is unknown, or its provider went away or rejected them. */
  readonly pending = new Map<string, BindingEntry>();

  activeOfType(type: string): BindingEntry[] {
    const out: BindingEntry[] = [];
    for (const b of this.active.values()) if (b.binding.trigger_type === type) out.push(b);
    return out;
  }

  pendingOfType(type: string): BindingEntry[] {
    const out: BindingEntry[] = [];
    for (const b of this.pending.values()) if (b.binding.trigger_type === type) out.push(b);
    return out;
  }

  /** Types whose provider is `conn`. */
  typesProvidedBy(conn: WorkerConnection): TriggerTypeEntry[] {
    const out: TriggerTypeEntry[] = [];
    for (const t of this.types.values()) if (t.provider.kind === 'worker' && t.provider.conn === conn) out.push(t);
    return out;
  }

  ownedBy(conn: WorkerConnection, map: Map<string, BindingEntry>): BindingEntry[] {
    const out: BindingEntry[] = [];
    for (const b of map.values()) if (b.owner === conn) out.push(b);
    return out;
  }
}

/** Which in-process worker provides a known type; used in the `[PENDING]` hint like the real engine. */
export function knownTriggerTypeProvider(type: string): string | undefined {
  switch (type) {
    case 'http':
      return 'http';
    case 'cron':
      return 'cron';
    case 'state':
      return 'state';
    case 'stream':
    case 'stream:join':
    case 'stream:leave':
      return 'stream';
    case 'subscribe':
      return 'pubsub';
    case 'durable:subscriber':
      return 'queue';
    default:
      return undefined;
  }
}
