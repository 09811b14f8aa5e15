// Child processes run plain node, so the packages they load must exist as JavaScript: build
// them once per test run (emit only; the typecheck target checks the types). Always rebuilt, so a
// stale dist never tests old code. models-catalog runs as its own process: a worker never imports
// another worker, even in tests.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function buildForChildren() {
  const packages = join(__dirname, '..', '..');
  for (const pkg of ['types', 'runtime', 'models-catalog', 'llm-budget'])
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.lib.json', '--noCheck'], {
      cwd: join(packages, pkg),
      stdio: 'pipe',
    });
};
