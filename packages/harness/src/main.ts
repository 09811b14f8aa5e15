#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { harnessWorker } from './register.js';

await runWorkerMain({ ...harnessWorker, version: packageVersion(import.meta.url) });
