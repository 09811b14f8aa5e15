// iii-sdk and its OTel helper print connection chatter on the console; keep test output readable.
// Errors still print.
const chatter = /^\[(iii|OTel)\]/;
for (const level of ['debug', 'log', 'info']) {
  const original = console[level];
  console[level] = (...args) => {
    if (typeof args[0] === 'string' && chatter.test(args[0])) return;
    original(...args);
  };
}
