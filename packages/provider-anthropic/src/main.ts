#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { providerAnthropicWorker } from './register.js';

await runWorkerMain({ ...providerAnthropicWorker, version: packageVersion(import.meta.url) });
