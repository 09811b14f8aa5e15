#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { sessionWorker } from './register.js';

await runWorkerMain({ ...sessionWorker, version: packageVersion(import.meta.url) });
