export { HarnessClient } from './client.js';
export { DEMO_MODEL, DEMO_PROVIDER, demoReply } from './demo/script.js';
export { demoWorker } from './demo/worker.js';
export { EXIT } from './errors.js';
export { run } from './run.js';
