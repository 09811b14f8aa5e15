#!/usr/bin/env node
// Process entry of `iii-harness`. Colour is decided before anything that loads chalk: chalk reads
// FORCE_COLOR when it is first imported, and does not know NO_COLOR.
if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') process.env.FORCE_COLOR = '0';
const { run } = await import('./run.js');
const code = await run(process.argv.slice(2), new URL('../package.json', import.meta.url));
// Exit explicitly: a bus client's reconnect timers must not keep a finished command alive. But
// first let what was printed reach a pipe: writes to one are asynchronous, and exit drops them.
await new Promise((done) => process.stdout.write('', done));
process.exit(code);
