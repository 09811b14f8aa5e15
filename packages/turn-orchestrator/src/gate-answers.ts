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
    const key = `${functionId}\u0000${JSON.stringify(args)}`;
    let answer = this.decisions.get(key);
    if (!answer) {
      answer = this.bus.call(
        contracts.policy.checkPermissions,
        { function_id: functionId, args, session_id: this.sessionId },
        { timeoutMs: this.timeoutMs },
      );
      this.decisions.set(key, answer);
      answer.catch(() => this.decisions.delete(key));
    }
    return answer;
  }

  /** Whether the policy denies a function outright (asked with empty arguments); unreachable hides it. */
  isDenied = (functionId: string): Promise<boolean> =>
    this.policy(functionId, {}).then(
      (d) => d.decision === 'deny',
      () => true,
    );
}
