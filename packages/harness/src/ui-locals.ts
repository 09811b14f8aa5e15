import type { Bus } from '@iii-harness/runtime';
import { contracts, uiPushFunctionId } from '@iii-harness/types';

const PREFIX = uiPushFunctionId('');

/**
 * The UI clients of this copy's engine: those whose push function (`ui::session::event::<id>`)
 * the engine lists. Function registries are per engine, so this copy can push to these clients
 * and to no other; the others are the business of the copies on their engines.
 */
export class LocalClients {
  private clients = new Set<string>();

  constructor(
    private readonly bus: Bus,
    /** Which listed clients count (tests stand two engines' copies up on one engine); all by default. */
    private readonly isHere: (clientId: string) => boolean = () => true,
  ) {}

  has(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  get all(): ReadonlySet<string> {
    return this.clients;
  }

  /** Ask the engine again which clients are here. */
  async refresh(): Promise<void> {
    const { functions } = await this.bus.call(contracts.engine.functionsList, { prefix: PREFIX });
    this.clients = new Set(
      functions
        .map((f) => f.function_id)
        .filter((id) => id.startsWith(PREFIX))
        .map((id) => id.slice(PREFIX.length))
        .filter((id) => this.isHere(id)),
    );
  }

  /** Check one client (it just subscribed through this engine); true when it is here. */
  async check(clientId: string): Promise<boolean> {
    const { functions } = await this.bus.call(contracts.engine.functionsList, { prefix: uiPushFunctionId(clientId) });
    const here = functions.some((f) => f.function_id === uiPushFunctionId(clientId)) && this.isHere(clientId);
    if (here) this.clients.add(clientId);
    else this.clients.delete(clientId);
    return here;
  }

  forget(clientId: string): void {
    this.clients.delete(clientId);
  }
}
