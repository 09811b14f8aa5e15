// A throwaway copy of the workspace's manifests (no sources), for release and graph experiments.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPackages, ROOT } from '../lib/workspace.mjs';

export const NX_ENV = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_CACHE_DIRECTORY: '',
};

/** A git repo holding the root config, each package's manifests and one source file, and node_modules linked. */
export function copyWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'iih-ws-'));
  for (const file of ['package.json', 'nx.json', 'tsconfig.base.json', '.nvmrc', '.gitignore'])
    cpSync(join(ROOT, file), join(dir, file));
  cpSync(join(ROOT, '.changeset/config.json'), join(dir, '.changeset/config.json'));
  for (const { folder, dir: from } of listPackages()) {
    mkdirSync(join(dir, 'packages', folder, 'src'), { recursive: true });
    cpSync(join(from, 'package.json'), join(dir, 'packages', folder, 'package.json'));
    writeFileSync(join(dir, 'packages', folder, 'src', 'index.ts'), 'export {};\n');
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'fixture');
  return dir;
}

export function git(cwd, ...args) {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
    cwd,
    encoding: 'utf8',
  });
}

export function run(cwd, bin, args) {
  return execFileSync(join(ROOT, 'node_modules/.bin', bin), args, {
    cwd,
    encoding: 'utf8',
    env: NX_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
