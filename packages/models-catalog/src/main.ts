#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { modelsCatalogWorker } from './register.js';

await runWorkerMain({ ...modelsCatalogWorker, version: packageVersion(import.meta.url) });
