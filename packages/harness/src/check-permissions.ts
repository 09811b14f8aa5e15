import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { KernelSpec } from './kernel-deny.js';
import { checkPermission } from './policy-evaluate.js';
import type { PolicyLoader } from './policy-loader.js';

export const checkPermissions = (loader: PolicyLoader, kernel: KernelSpec, maxMatchLength: number) =>
  (({ function_id, args, session_id }, { logger }) => {
    const decision = checkPermission(loader.current(), function_id, args, { kernel, maxMatchLength }, session_id);
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
  }) satisfies Handler<typeof contracts.policy.checkPermissions>;
