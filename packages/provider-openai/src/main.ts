#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { providerOpenAIWorker } from './register.js';

await runWorkerMain({ ...providerOpenAIWorker, version: packageVersion(import.meta.url) });
