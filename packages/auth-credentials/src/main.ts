#!/usr/bin/env node
import { packageVersion, runWorkerMain } from '@iii-harness/runtime';
import { authCredentialsWorker } from './register.js';

await runWorkerMain({ ...authCredentialsWorker, version: packageVersion(import.meta.url) });
