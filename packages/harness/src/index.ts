export { type Config, configSchema, envOverrides } from './config.js';
export {
  compileKernel,
  KERNEL_DENIED_FUNCTIONS,
  type KernelEntry,
  type KernelSpec,
  kernelDecision,
  PROTECTED_STORAGE,
  STORAGE_WRITES,
} from './kernel-deny.js';
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
export { type ProviderDeclaration, providerDeclaration } from './provider-store.js';
export { harnessWorker, register } from './register.js';
export { pushFunctionId } from './ui-fanout.js';
