#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { webWorker } from './register.js';

await runWorkerMain({ ...webWorker, version: packageVersion(import.meta.url) });
