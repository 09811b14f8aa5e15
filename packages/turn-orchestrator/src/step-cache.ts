import type { Bus } from '@iii-harness/runtime';
import { z } from 'zod';
import { deniedCheck } from './policy-view.js';

const settings = z.object({ mode: z.enum(['manual', 'auto', 'full']), always_allow: z.array(z.string()) });
export type ApprovalSettings = z.infer<typeof settings>;

/**
 * Answers that hold for one step: the session's approval settings, which hook topics have
 * subscribers, and which functions the policy denies outright. Asked once per step instead of
 * once per call (a batch of ten calls would otherwise ask ten times).
 */
export class StepCache {
  private settingsAnswer?: Promise<ApprovalSettings | undefined>;
  private subscribedTopics?: Promise<Set<string> | undefined>;
  readonly isDenied: (functionId: string) => Promise<boolean>;

  constructor(
    private readonly bus: Bus,
    private readonly sessionId: string,
    private readonly timeoutMs: number,
  ) {
    this.isDenied = deniedCheck(bus, timeoutMs);
  }

  /** The session's approval settings; undefined when the approval gate cannot be reached. */
  settings(): Promise<ApprovalSettings | undefined> {
    this.settingsAnswer ??= this.bus
      .call('approval::get_settings', { session_id: this.sessionId }, { timeoutMs: this.timeoutMs, schema: settings })
      .catch(() => undefined);
    return this.settingsAnswer;
  }

  /**
   * Whether anyone subscribes to a hook topic. Undefined topics set (catalogue unreadable) means
   * "maybe": the hook is then published and hook-fanout decides.
   */
  async hasSubscribers(topic: string): Promise<boolean> {
    this.subscribedTopics ??= this.bus
      .call<{ registered_triggers: Array<{ config?: { topic?: unknown; queue?: unknown } }> }>(
        'engine::registered-triggers::list',
        { trigger_type: 'durable:subscriber' },
      )
      .then(
        ({ registered_triggers }) =>
          new Set(registered_triggers.map((t) => String(t.config?.topic ?? t.config?.queue))),
      )
      .catch(() => undefined);
    const topics = await this.subscribedTopics;
    return topics === undefined || topics.has(topic);
  }
}
