import type { Bus, Logger } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import type { EngineStatus, Features } from './protocol.js';

/** The function whose presence says a part of the harness is running. */
const FEATURE_PROBES: Record<keyof Features, string> = {
  harness: contracts.harness.send.id,
  session: contracts.session.tree.id,
  approvals: contracts.approval.resolve.id,
  models: contracts.models.list.id,
  auth: contracts.auth.status.id,
  compaction: contracts.compaction.compactSession.id,
  budgets: 'budget::list',
  traces: 'engine::traces::list',
  logs: 'engine::logs::list',
};

export const NO_FEATURES: Features = Object.freeze(
  Object.fromEntries(Object.keys(FEATURE_PROBES).map((k) => [k, false])) as unknown as Features,
);

/** iii-sdk 0.22.1 reconnects by itself but announces nothing; its client keeps this field. */
interface WithConnectionState {
  connectionState?: string;
}

const POLL_MS = 250;
const FEATURES_DEBOUNCE_MS = 300;

/**
 * The console's view of the engine: connected or not (an epoch bumped on every reconnection, so
 * pages know to re-read what they show) and which parts of the harness are up. iii-sdk re-sends
 * the console's functions and triggers itself after a reconnect; this only notices and tells.
 */
export class EngineLink {
  private status: EngineStatus;
  private features: Features = NO_FEATURES;
  private timer?: NodeJS.Timeout;
  private featuresTimer?: NodeJS.Timeout;
  private client?: WithConnectionState;
  private bus?: Bus;

  constructor(
    url: string,
    private readonly onStatus: (status: EngineStatus) => void,
    private readonly onFeatures: (features: Features) => void,
    private readonly logger: Logger,
  ) {
    this.status = { connected: false, epoch: 0, url };
  }

  get engine(): EngineStatus {
    return this.status;
  }

  get current(): Features {
    return this.features;
  }

  /** The worker connected for the first time: watch its socket from now on. */
  attach(client: unknown, bus: Bus): void {
    this.client = client as WithConnectionState;
    this.bus = bus;
    this.setConnected(true);
    this.timer = setInterval(() => this.setConnected(this.client?.connectionState === 'connected'), POLL_MS);
    this.timer.unref();
  }

  private setConnected(connected: boolean): void {
    if (connected === this.status.connected) return;
    this.status = { ...this.status, connected, epoch: connected ? this.status.epoch + 1 : this.status.epoch };
    // Workers re-register after a restart: once they are back the pages hear so (and re-read what
    // failed while they were away), even when the catalog ends up as it was before.
    if (!connected) this.features = NO_FEATURES;
    this.logger.info(
      { connected, epoch: this.status.epoch },
      connected ? 'engine connected' : 'engine connection lost',
    );
    this.onStatus(this.status);
    if (connected) this.refreshFeatures();
  }

  /** Re-read which functions are registered (debounced: workers come up in bursts). */
  refreshFeatures(): void {
    clearTimeout(this.featuresTimer);
    this.featuresTimer = setTimeout(() => void this.readFeatures(), FEATURES_DEBOUNCE_MS);
    this.featuresTimer.unref();
  }

  private async readFeatures(): Promise<void> {
    if (!this.bus || !this.status.connected) return;
    try {
      const { functions } = await this.bus.call(
        contracts.engine.functionsList,
        { include_internal: true },
        { timeoutMs: 10_000 },
      );
      const ids = new Set(functions.map((f) => f.function_id));
      const next = Object.fromEntries(
        Object.entries(FEATURE_PROBES).map(([feature, id]) => [feature, ids.has(id)]),
      ) as unknown as Features;
      if (JSON.stringify(next) === JSON.stringify(this.features)) return;
      this.features = next;
      this.onFeatures(next);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not read the function catalog');
    }
  }

  close(): void {
    clearInterval(this.timer);
    clearTimeout(this.featuresTimer);
  }
}
