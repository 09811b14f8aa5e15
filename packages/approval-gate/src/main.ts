#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { approvalGateWorker } from './register.js';

await runWorkerMain({ ...approvalGateWorker, version: packageVersion(import.meta.url) });
