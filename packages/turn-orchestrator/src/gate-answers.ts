import type { Bus } from '@iii-harness/runtime';
import { type ApprovalSettings, contracts, type PolicyDecision } from '@iii-harness/types';
import { waitOut } from './patience.js';

/**
 * The gate's answers within one delivery: the session's approval settings (asked once), the
 * policy's decision per distinct call (a batch asking the same thing twice asks once), and which
 * functions the policy denies outright (for what the model is shown).
 */
export class GateAnswers {
  private settingsAnswer?: Promise<ApprovalSettings | undefined>;
  private readonly decisions = new Map<string, Promise<PolicyDecision>>();

  constructor(
    private readonly bus: Bus,
    private readonly sessionId: string,
    private readonly timeoutMs: number,
  ) {}

  /** The session's approval settings; undefined when the approval gate cannot be reached (waited for up to the timeout). */
  settings(): Promise<ApprovalSettings | undefined> {
    this.settingsAnswer ??= waitOut(
      contracts.approval.getSettings.id,
      () =>
        this.bus.call(contracts.approval.getSettings, { session_id: this.sessionId }, { timeoutMs: this.timeoutMs }),
      { boundMs: this.timeoutMs },
    ).catch(() => undefined);
    return this.settingsAnswer;
  }

  /** The policy's decision on a call (rejects when the policy cannot be asked). */
  policy(functionId: string, args: unknown): Promise<PolicyDecision> {
    const key = keyOf(functionId, args);
    return this.decisions.get(key) ?? this.remember(key, this.askOne(functionId, args));
  }

  /**
   * Ask the policy about the calls of a batch in one round trip (`policy::check_batch`); their
   * decisions are then what `policy` answers. One call, or calls asked already, cost nothing
   * extra. When the batch gets no answer, each call is asked on its own.
   */
  prefetch(calls: ReadonlyArray<{ function_id: string; args: unknown }>): void {
    const fresh = new Map<string, { function_id: string; args: unknown }>();
    for (const { function_id, args } of calls) {
      const key = keyOf(function_id, args);
      if (!this.decisions.has(key)) fresh.set(key, { function_id, args });
    }
    if (fresh.size < 2) return;
    const asked = [...fresh.values()];
    const batch = this.bus.call(
      contracts.policy.checkBatch,
      { calls: asked, session_id: this.sessionId },
      { timeoutMs: this.timeoutMs },
    );
    for (const [index, [key, call]] of [...fresh].entries()) {
      const answer = batch.then(
        ({ decisions }) => decisions[index] ?? this.askOne(call.function_id, call.args),
        // Whatever kept the batch from answering (an older harness without it, one call it rejects),
        // each call is asked on its own, as it was before batches.
        () => this.askOne(call.function_id, call.args),
      );
      this.remember(key, answer);
    }
  }

  private askOne(functionId: string, args: unknown): Promise<PolicyDecision> {
    return this.bus.call(
      contracts.policy.checkPermissions,
      { function_id: functionId, args, session_id: this.sessionId },
      { timeoutMs: this.timeoutMs },
    );
  }

  /** Keep an answer for the delivery; one that fails is asked again next time. */
  private remember(key: string, answer: Promise<PolicyDecision>): Promise<PolicyDecision> {
    this.decisions.set(key, answer);
    answer.catch(() => this.decisions.get(key) === answer && this.decisions.delete(key));
    return answer;
  }

  /** Whether the policy denies a function outright (asked with empty arguments); unreachable hides it. */
  isDenied = (functionId: string): Promise<boolean> =>
    this.policy(functionId, {}).then(
      (d) => d.decision === 'deny',
      () => true,
    );
}

const keyOf = (functionId: string, args: unknown) => `${functionId}\u0000${JSON.stringify(args)}`;
