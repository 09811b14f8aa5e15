#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { contextCompactionWorker } from './register.js';

await runWorkerMain({ ...contextCompactionWorker, version: packageVersion(import.meta.url) });
