import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { type Config, configSchema, envOverrides } from './config.js';
import { webFetch } from './fetch.js';
import { Guard, type Resolve, systemResolve } from './guard.js';
import { AllowList } from './host-policy.js';

export interface WebWorkerOptions {
  /** The guard's resolver (default: the system's getaddrinfo). Tests inject a stub. */
  resolve?: Resolve;
  /** Extra trusted CA certificates (PEM), e.g. for a test TLS server. */
  ca?: string;
}

/** The whole bus surface of web: one function, no state, no triggers, no events. */
export function register(worker: Worker<Config>, options: WebWorkerOptions = {}): void {
  const guard = new Guard(new AllowList(worker.config.allow_private), options.resolve ?? systemResolve);
  worker.function(contracts.web.fetch, webFetch({ guard, config: worker.config, ca: options.ca }));
}

/** The worker spec; `createWebWorker` lets tests swap the resolver. */
export function createWebWorker(options: WebWorkerOptions = {}): WorkerSpec<Config> {
  return {
    name: 'web',
    description: 'The HTTP fetch tool agents use, behind an SSRF guard, with size and time limits',
    config: configSchema,
    env: envOverrides,
    register: (worker) => register(worker, options),
  };
}

export const webWorker = createWebWorker();
