import { join, resolve } from 'node:path';
import { type ChildProc, freePort, spawnNode as spawnChild } from '@iii-harness/testing';

export { freePort };
/** A real child process we can SIGKILL (testing's ChildProc); its output is kept for failure messages. */
export type Proc = ChildProc;

const PACKAGES = resolve(__dirname, '../../..');

/** The built process entry of a workspace package (`npm run build` first; `nx` does it for this target). */
export const mainOf = (pkg: string) => join(PACKAGES, pkg, 'dist', 'main.js');

/** `node <script> <args>` with `env` added (OTel export off, warn-level logs by default). */
export const spawnNode = (name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc =>
  spawnChild(name, script, args, { env });

/** The dev engine as its own process, on a data dir that outlives it. */
export function spawnEngine(port: number, dataDir: string): Proc {
  const args = ['--port', String(port), '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn'];
  return spawnNode('engine', mainOf('dev-engine'), args);
}

/** A worker package's bin against `url`, with an optional YAML config file. */
export function spawnWorker(pkg: string, url: string, configFile?: string): Proc {
  return spawnNode(pkg, mainOf(pkg), ['--url', url, ...(configFile ? ['--config', configFile] : [])]);
}

export const SCRIPTED_PROVIDER_MAIN = join(__dirname, 'scripted-provider-main.mjs');
