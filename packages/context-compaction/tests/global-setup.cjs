// The session and models-catalog workers run as child processes in these tests (a worker package
// never depends on another worker, not even for its tests), and the SIGKILL test runs this worker
// as one: their built JavaScript must be current. Packages whose dist is older than their src are
// built once per run, without type checking (typecheck is its own target).
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const PACKAGES = join(__dirname, '..', '..');
const BUILT = ['types', 'runtime', 'session', 'models-catalog', 'context-compaction'];

function newest(dir) {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    latest = Math.max(latest, stat.isDirectory() ? newest(path) : stat.mtimeMs);
  }
  return latest;
}

module.exports = async () => {
  for (const pkg of BUILT) {
    const dir = join(PACKAGES, pkg);
    const built = join(dir, 'dist', 'index.js');
    if (existsSync(built) && statSync(built).mtimeMs >= newest(join(dir, 'src'))) continue;
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.lib.json', '--noCheck'], {
      cwd: dir,
      stdio: 'pipe',
    });
  }
};
