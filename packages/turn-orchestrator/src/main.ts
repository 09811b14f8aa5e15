#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { turnOrchestratorWorker } from './register.js';

await runWorkerMain({ ...turnOrchestratorWorker, version: packageVersion(import.meta.url) });
