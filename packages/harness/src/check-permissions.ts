import { defineFunction } from '@iii-harness/runtime';
import { policyDecision } from '@iii-harness/types';
import { z } from 'zod';
import type { KernelSpec } from './kernel-deny.js';
import { checkPermission } from './policy-evaluate.js';
import type { PolicyLoader } from './policy-loader.js';

export const checkPermissions = (loader: PolicyLoader, kernel: KernelSpec, maxMatchLength: number) =>
  defineFunction({
    id: 'policy::check_permissions',
    description:
      'Decide whether an agent may call a function with these arguments: allow, deny or needs_approval (kernel deny list, then the YAML rules)',
    input: z
      .object({
        function_id: z.string().min(1).max(1024),
        /** The call's arguments, any JSON: never trusted, never logged. */
        args: z.unknown().optional(),
      })
      .strict(),
    output: policyDecision,
    handler({ function_id, args }, { logger }) {
      const decision = checkPermission(loader.current(), function_id, args, { kernel, maxMatchLength });
      logger.debug(
        {
          target: function_id,
          decision: decision.decision,
          rule_id: 'rule_id' in decision ? decision.rule_id : undefined,
        },
        'permission decided',
      );
      return decision;
    },
  });
