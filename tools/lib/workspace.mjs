// Reading the workspace: its packages and their manifests. Shared by the tools scripts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every package under packages/, as { dir, folder, pkg, tags }. */
export function listPackages(root = ROOT) {
  const base = join(root, 'packages');
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(base, entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(base, entry.name);
      const pkg = readJson(join(dir, 'package.json'));
      return { dir, folder: entry.name, pkg, tags: pkg.nx?.tags ?? [] };
    });
}

export const isWorker = (p) => p.tags.includes('type:worker');
