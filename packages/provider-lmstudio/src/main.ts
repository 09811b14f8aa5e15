#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { providerLmStudioWorker } from './register.js';

await runWorkerMain({ ...providerLmStudioWorker, version: packageVersion(import.meta.url) });
