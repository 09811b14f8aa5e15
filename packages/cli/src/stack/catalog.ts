import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The processes of a local harness: the dev engine and every worker, each started by its
 * package's bin (never imported: the CLI does not reach into a worker's code). Workers that are
 * not installed are skipped, so newer workers join the stack as soon as they are.
 */

export interface StackWorker {
  /** Worker name, as it registers with the engine (also the log file's name). */
  name: string;
  pkg: string;
  /** Providers need a key or a local server; the table says which. */
  provider?: string;
}

export const STACK_WORKERS: readonly StackWorker[] = [
  { name: 'session', pkg: '@iii-harness/session' },
  { name: 'models-catalog', pkg: '@iii-harness/models-catalog' },
  { name: 'auth-credentials', pkg: '@iii-harness/auth-credentials' },
  { name: 'harness', pkg: '@iii-harness/harness' },
  { name: 'approval-gate', pkg: '@iii-harness/approval-gate' },
  { name: 'hook-fanout', pkg: '@iii-harness/hook-fanout' },
  { name: 'turn-orchestrator', pkg: '@iii-harness/turn-orchestrator' },
  { name: 'context-compaction', pkg: '@iii-harness/context-compaction' },
  { name: 'llm-budget', pkg: '@iii-harness/llm-budget' },
  { name: 'web', pkg: '@iii-harness/web' },
  { name: 'console', pkg: '@iii-harness/console' },
  { name: 'provider-anthropic', pkg: '@iii-harness/provider-anthropic', provider: 'anthropic' },
  { name: 'provider-openai', pkg: '@iii-harness/provider-openai', provider: 'openai' },
  { name: 'provider-kimi', pkg: '@iii-harness/provider-kimi', provider: 'kimi' },
  { name: 'provider-lmstudio', pkg: '@iii-harness/provider-lmstudio', provider: 'lmstudio' },
  { name: 'provider-llamacpp', pkg: '@iii-harness/provider-llamacpp', provider: 'llamacpp' },
];

export const ENGINE_PKG = '@iii-harness/dev-engine';
export const DEMO_WORKER: StackWorker = { name: 'provider-demo', pkg: '@iii-harness/cli', provider: 'demo' };

const require = createRequire(import.meta.url);

/** This CLI's own entry (to start the demo provider as a process). */
export const cliMain = (): string => join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

export type Resolved = { script: string } | { missing: 'not_installed' | 'not_built'; detail: string };

/** The script a package's (only) bin runs. */
export function resolveBin(pkg: string): Resolved {
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    return { missing: 'not_installed', detail: `${pkg} is not installed` };
  }
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> };
  const rel = typeof bin === 'string' ? bin : bin ? Object.values(bin)[0] : undefined;
  if (!rel) return { missing: 'not_installed', detail: `${pkg} has no bin` };
  const script = join(dirname(manifest), rel);
  if (!existsSync(script)) return { missing: 'not_built', detail: `${pkg} is not built (run \`npm run build\`)` };
  return { script };
}

const isInstalled = (pkg: string) => {
  const found = resolveBin(pkg);
  return !('missing' in found && found.missing === 'not_installed');
};

/** Workers to start: all installed ones, or exactly those named by --only (unknown names are an error). */
export function selectWorkers(only: string[] | undefined): { workers: StackWorker[]; unknown: string[] } {
  if (!only) return { workers: STACK_WORKERS.filter((w) => isInstalled(w.pkg)), unknown: [] };
  const known = new Map(STACK_WORKERS.map((w) => [w.name, w]));
  const unknown = only.filter((name) => !known.has(name) && name !== DEMO_WORKER.name);
  return { workers: only.flatMap((name) => known.get(name) ?? []), unknown };
}
