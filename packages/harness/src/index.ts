export { harnessWorker, register } from './register.js';
export { configSchema, envOverrides, type Config } from './config.js';
export { checkPermission, evaluateRules, jsonEqual, lookupField, type EvaluateOptions } from './policy-evaluate.js';
export { compilePolicy, parsePolicy, hasNestedQuantifier, PolicyError, type CompiledPolicy, type CompiledRule, type Constraint } from './policy-rules.js';
export { compileKernel, kernelDecision, KERNEL_DENIED_FUNCTIONS, PROTECTED_STORAGE, STORAGE_WRITES, type KernelEntry, type KernelSpec } from './kernel-deny.js';
export { globToRegExp, skeleton } from './policy-names.js';
export { PolicyLoader, resolvePolicyPath, type PolicyLoaderOptions } from './policy-loader.js';
export { providerDeclaration, type ProviderDeclaration } from './provider-store.js';
export { pushFunctionId } from './ui-fanout.js';
