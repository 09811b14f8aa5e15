#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { hookFanoutWorker } from './register.js';

await runWorkerMain({ ...hookFanoutWorker, version: packageVersion(import.meta.url) });
