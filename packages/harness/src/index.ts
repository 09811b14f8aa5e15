export { type Config, configSchema, envOverrides } from './config.js';
export {
  AGENT_SAFE,
  AGENT_TOOL_GROUPS,
  compileKernel,
  type KernelSpec,
  kernelDecision,
  PROTECTED_STORAGE,
  RESERVED_NAMESPACES,
  type SafeCheck,
  type SafeEntry,
} from './kernel-deny.js';
export { describeRule, type PolicyChange, policyChange } from './policy-diff.js';
export { checkPermission, type EvaluateOptions, evaluateRules, jsonEqual, lookupField } from './policy-evaluate.js';
export { PolicyLoader, type PolicyLoaderOptions, resolvePolicyPath } from './policy-loader.js';
export { skeleton } from './policy-names.js';
export {
  type CompiledPolicy,
  type CompiledRule,
  type Constraint,
  compilePolicy,
  hasNestedQuantifier,
  PolicyError,
  parsePolicy,
} from './policy-rules.js';
export { harnessWorker, register } from './register.js';
