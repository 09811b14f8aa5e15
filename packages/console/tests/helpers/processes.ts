import { join, resolve } from 'node:path';
import { type ChildProc, freePort, spawnNode as spawnChild, waitForPort as waitFor } from '@iii-harness/testing';

export { freePort };
/** A real child process we can SIGKILL (testing's ChildProc); its output is kept for failure messages. */
export type Proc = ChildProc;

const PACKAGES = resolve(__dirname, '../../..');

/** The built process entry of a workspace package (tests/global-setup.cjs builds stale ones). */
export const mainOf = (pkg: string) => join(PACKAGES, pkg, 'dist', 'main.js');

/** `node <script> <args>` with `env` added (OTel export off, warn-level logs by default). */
export const spawnNode = (name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc =>
  spawnChild(name, script, args, { env });

/** Until something accepts TCP connections on the port. */
export const waitForPort = (port: number, timeoutMs = 20_000): Promise<void> => waitFor(port, undefined, timeoutMs);
