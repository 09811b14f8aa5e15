// The browser tests run every harness worker, the dev engine and this console as child processes
// from their built JavaScript (a worker package never imports another): build whatever is stale,
// once per run, without type checking (typecheck is its own target). The console's page is built
// by Vite.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const PACKAGES = join(__dirname, '..', '..');
const BUILT = [
  'types',
  'runtime',
  'provider-kit',
  'dev-engine',
  'testing',
  'session',
  'models-catalog',
  'auth-credentials',
  'harness',
  'approval-gate',
  'hook-fanout',
  'turn-orchestrator',
  'context-compaction',
  'llm-budget',
  'console',
];

function newest(dir) {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    latest = Math.max(latest, stat.isDirectory() ? newest(path) : stat.mtimeMs);
  }
  return latest;
}

const tsc = (cwd) =>
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.lib.json', '--noCheck'], {
    cwd,
    stdio: 'pipe',
  });

module.exports = async () => {
  for (const pkg of BUILT) {
    const dir = join(PACKAGES, pkg);
    const built = join(dir, 'dist', 'index.js');
    if (!existsSync(built) || statSync(built).mtimeMs < newest(join(dir, 'src'))) tsc(dir);
  }
  const consoleDir = join(PACKAGES, 'console');
  const page = join(consoleDir, 'dist', 'public', 'index.html');
  if (
    !existsSync(page) ||
    statSync(page).mtimeMs < Math.max(newest(join(consoleDir, 'web')), newest(join(consoleDir, 'src')))
  )
    execFileSync(
      process.execPath,
      [
        join(PACKAGES, '..', 'node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'vite.config.mjs',
        '--logLevel',
        'warn',
      ],
      {
        cwd: consoleDir,
        stdio: 'pipe',
      },
    );
};
