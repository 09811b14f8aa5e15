#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { providerKimiWorker } from './register.js';

await runWorkerMain({ ...providerKimiWorker, version: packageVersion(import.meta.url) });
