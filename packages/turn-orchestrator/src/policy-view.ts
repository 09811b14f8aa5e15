import type { Bus } from '@iii-harness/runtime';
import { policyDecision } from '@iii-harness/types';

/**
 * Whether the policy denies a function outright (asked with empty arguments), for filtering what
 * the model is shown. Memoized for one step; an unreachable policy hides everything (fail closed).
 */
export function deniedCheck(bus: Bus, timeoutMs: number): (functionId: string) => Promise<boolean> {
  const memo = new Map<string, Promise<boolean>>();
  return (functionId) => {
    let answer = memo.get(functionId);
    if (!answer) {
      answer = bus
        .call('policy::check_permissions', { function_id: functionId, args: {} }, { timeoutMs, schema: policyDecision })
        .then(
          (d) => d.decision === 'deny',
          () => true,
        );
      memo.set(functionId, answer);
    }
    return answer;
  };
}
