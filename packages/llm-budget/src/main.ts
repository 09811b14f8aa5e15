#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { llmBudgetWorker } from './register.js';

await runWorkerMain({ ...llmBudgetWorker, version: packageVersion(import.meta.url) });
