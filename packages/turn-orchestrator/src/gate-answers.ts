import type { Bus } from '@iii-harness/runtime';
import { type PolicyDecision, policyDecision } from '@iii-harness/types';
import { z } from 'zod';

const settings = z.object({ mode: z.enum(['manual', 'auto', 'full']), always_allow: z.array(z.string()) });
export type ApprovalSettings = z.infer<typeof settings>;

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

  /** The session's approval settings; undefined when the approval gate cannot be reached. */
  settings(): Promise<ApprovalSettings | undefined> {
    this.settingsAnswer ??= this.bus
      .call('approval::get_settings', { session_id: this.sessionId }, { timeoutMs: this.timeoutMs, schema: settings })
      .catch(() => undefined);
    return this.settingsAnswer;
  }

  /** The policy's decision on a call (rejects when the policy cannot be asked). */
  policy(functionId: string, args: unknown): Promise<PolicyDecision> {
    const key = `${functionId}\u0000${JSON.stringify(args)}`;
    let answer = this.decisions.get(key);
    if (!answer) {
      answer = this.bus.call(
        'policy::check_permissions',
        { function_id: functionId, args },
        { timeoutMs: this.timeoutMs, schema: policyDecision },
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
