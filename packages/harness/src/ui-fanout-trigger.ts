import type { Bus } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';

/**
 * The `agent::events` stream trigger behind the UI fan-out, registered only while some client
 * follows a session: every agent event would otherwise cost the engine an invocation of this
 * worker, for nobody. `set` resolves once the engine has processed the change — the frames of one
 * connection are handled in order, so a round trip after the (un)registration proves it — which
 * is why a client that `ui::subscribe` returned to sees every event written afterwards.
 */
export class FanoutTrigger {
  private handle?: { unregister(): void };

  constructor(
    private readonly bus: Bus,
    private readonly register: () => { unregister(): void },
  ) {}

  get active(): boolean {
    return this.handle !== undefined;
  }

  async set(on: boolean): Promise<void> {
    if (on === this.active) return;
    if (on) this.handle = this.register();
    else {
      this.handle?.unregister();
      this.handle = undefined;
    }
    await this.bus.call(contracts.engine.functionsList, { prefix: 'harness::ui::__sync__' });
  }
}
