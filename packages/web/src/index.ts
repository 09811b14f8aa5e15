export { BLOCKED_IPV4, BLOCKED_IPV6, METADATA_ADDRESSES, refuseAddress } from './address-policy.js';
export { type Config, configSchema } from './config.js';
export { Guard, type Resolve, type Target } from './guard.js';
export { AllowList, BLOCKED_HOST_SUFFIXES, METADATA_HOST_NAMES, refuseHostName } from './host-policy.js';
export { htmlToMarkdown } from './markdown.js';
export { createWebWorker, register, type WebWorkerOptions, webWorker } from './register.js';
