// tests/processes.test.ts runs the dev engine's own bin, which is plain node: build it (emit
// only; its typecheck target checks the types). Always rebuilt, so a stale dist never runs.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function buildForChildren() {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.lib.json', '--noCheck'], {
    cwd: join(__dirname, '..', '..', 'dev-engine'),
    stdio: 'pipe',
  });
};
