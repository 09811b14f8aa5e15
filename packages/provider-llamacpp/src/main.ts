#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { providerLlamaCppWorker } from './register.js';

await runWorkerMain({ ...providerLlamaCppWorker, version: packageVersion(import.meta.url) });
