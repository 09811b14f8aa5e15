export { startDevEngine, type DevEngine } from './engine.js';
export { startTestWorker, connectClient, type TestWorker, type TestClient } from './workers.js';
export { captureLogs, type CapturedLogs } from './logs.js';
export { collectStream, type StreamCollector, type StreamEvent } from './streams.js';
export { eventually } from './eventually.js';
