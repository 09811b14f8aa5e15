/**
 * Runs the real `iii-dev-engine` bin (src/main.ts compiled with tsc) as a child process, so a
 * test can `kill -9` it and start it again on the same data directory.
 *
 * The build goes to node_modules/.cache (git-ignored, incremental) instead of dist/, so a test run
 * never races a concurrent `nx build`. A package.json next to it makes the output ESM and gives
 * main.ts the `../package.json` it reads its version from.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const PACKAGE_DIR = join(__dirname, '..', '..');
const BUILD_DIR = join(PACKAGE_DIR, 'node_modules', '.cache', 'dev-engine-crash-test');
const MAIN = join(BUILD_DIR, 'dist', 'main.js');

/** Compiles src/ into the cache directory (a few seconds; incremental on later runs). */
export function buildEngineBin(): string {
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(
    join(BUILD_DIR, 'package.json'),
    JSON.stringify({ name: 'dev-engine-crash-build', version: '0.0.0-crash-test', type: 'module', private: true }),
  );
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(
    process.execPath,
    [
      tsc,
      '-p',
      join(PACKAGE_DIR, 'tsconfig.lib.json'),
      '--outDir',
      join(BUILD_DIR, 'dist'),
      '--tsBuildInfoFile',
      join(BUILD_DIR, 'tsconfig.tsbuildinfo'),
      '--declaration',
      'false',
      '--declarationMap',
      'false',
      '--sourceMap',
      'false',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}\n${result.stderr}`);
  return MAIN;
}

export interface EngineProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** SIGKILL, and wait for the process to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful close), and wait for the exit. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** More CLI flags. */
  args?: string[];
  /** Run under `ulimit -n <fdLimit>` (the open-file limit of the engine process). */
  fdLimit?: number;
}

/**
 * Starts the bin with `--data-dir`; resolves once its "iii dev engine ready" log line (pino JSON
 * on stdout) tells the URL. `port` 0 picks a free port.
 */
export function spawnEngine(dataDir: string, port = 0, options: SpawnOptions = {}): Promise<EngineProcess> {
  const args = [
    MAIN,
    '--port',
    String(port),
    '--http-port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'info',
    ...(options.args ?? []),
  ];
  const child =
    options.fdLimit === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${options.fdLimit} && exec "$0" "$@"`, process.execPath, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine did not report ready within 20 s; stderr: ${stderr}`));
    }, 20_000);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`engine exited early (code ${code}); stderr: ${stderr}`));
    };
    child.once('exit', onEarlyExit);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = parseJson(line);
      if (entry?.msg !== 'iii dev engine ready' || typeof entry.url !== 'string') return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      const url = entry.url;
      resolve({
        child,
        url,
        port: Number(new URL(url).port),
        kill9: async () => {
          child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

function parseJson(line: string): { msg?: string; url?: unknown } | undefined {
  try {
    return JSON.parse(line) as { msg?: string; url?: unknown };
  } catch {
    return undefined;
  }
}
