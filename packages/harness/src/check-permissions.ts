import type { Handler, Logger } from '@iii-harness/runtime';
import type { contracts, PolicyDecision } from '@iii-harness/types';
import type { KernelSpec } from './kernel-deny.js';
import { checkPermission } from './policy-evaluate.js';
import type { PolicyLoader } from './policy-loader.js';

export const checkPermissions = (loader: PolicyLoader, kernel: KernelSpec, maxMatchLength: number) =>
  (({ function_id, args, session_id }, { logger }) =>
    decideLogged(loader, { kernel, maxMatchLength }, { function_id, args }, session_id, logger)) satisfies Handler<
    typeof contracts.policy.checkPermissions
  >;

/** The same decisions for every call of a batch, against one snapshot of the rules. */
export const checkBatch = (loader: PolicyLoader, kernel: KernelSpec, maxMatchLength: number) =>
  (({ calls, session_id }, { logger }) => ({
    decisions: calls.map((call) => decideLogged(loader, { kernel, maxMatchLength }, call, session_id, logger)),
  })) satisfies Handler<typeof contracts.policy.checkBatch>;

function decideLogged(
  loader: PolicyLoader,
  options: { kernel: KernelSpec; maxMatchLength: number },
  { function_id, args }: { function_id: string; args?: unknown },
  session_id: string | undefined,
  logger: Logger,
): PolicyDecision {
  const decision = checkPermission(loader.current(), function_id, args, options, session_id);
  // The arguments are never logged: they may hold anything the model produced.
  logger.debug(
    {
      target: function_id,
      decision: decision.decision,
      rule_id: 'rule_id' in decision ? decision.rule_id : undefined,
    },
    'permission decided',
  );
  return decision;
}
