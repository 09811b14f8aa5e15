// iii-sdk and its OTel helper print connection chatter on the console; keep test output readable.
// Errors still print, except the SDK's connection-refused noise while an engine restarts.
const chatter = /^\[(iii|OTel)\]/;
for (const level of ['debug', 'log', 'info']) {
  const original = console[level];
  console[level] = (...args) => {
    if (typeof args[0] === 'string' && chatter.test(args[0])) return;
    original(...args);
  };
}
const reconnectNoise = /^\[iii\] (WebSocket error|Reconnecting)/;
const error = console.error;
console.error = (...args) => {
  if (typeof args[0] === 'string' && reconnectNoise.test(args[0])) return;
  error(...args);
};
