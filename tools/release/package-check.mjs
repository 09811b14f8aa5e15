// What a consumer of our npm packages would trip over, checked on the packed tarballs (exactly
// what `npm publish` sends): publint (package.json fields against the files) and
// arethetypeswrong (types resolve like the JavaScript, under the `esm-only` profile: the
// packages are ESM on purpose, and Node >= 20.19 loads them from require() too). arethetypeswrong
// runs through @arethetypeswrong/core, the library its CLI wraps: the CLI's JSON report is cut
// short when its stdout is a pipe.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { listPackages, ROOT } from '../lib/workspace.mjs';

const run = promisify(execFile);

/** Every package npm would publish (not `private`). */
export const publishablePackages = () => listPackages().filter((p) => !p.pkg.private);

/** `npm pack` each package into `outDir`; returns [{name, version, folder, tarball}]. */
export async function packPackages(outDir, packages = publishablePackages()) {
  const args = ['pack', '--json', '--pack-destination', outDir, ...packages.flatMap((p) => ['-w', p.dir])];
  const { stdout } = await run('npm', args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout);
  return packed.map((entry) => ({
    name: entry.name,
    version: entry.version,
    folder: packages.find((p) => p.pkg.name === entry.name)?.folder,
    tarball: join(outDir, entry.filename),
    files: entry.files.map((f) => f.path),
  }));
}

/** publint --strict on a tarball: every message, formatted, as a problem. */
export async function publintProblems(tarball) {
  const data = readFileSync(tarball);
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball: buffer }, strict: true, level: 'suggestion' });
  return messages.map((m) => `publint ${m.type}: ${formatMessage(m, pkg)}`);
}

/** Resolution modes the `esm-only` profile leaves out (as `attw --profile esm-only`). */
const ESM_ONLY_IGNORED = new Set(['node10', 'node16-cjs']);

/** arethetypeswrong on a tarball, esm-only profile, no network: its problems. */
export async function attwProblems(tarball) {
  const pkg = createPackageFromTarballData(new Uint8Array(readFileSync(tarball)));
  const result = await checkPackage(pkg);
  if (!result.types) return ['attw: the package ships no types'];
  return result.problems
    .filter((p) => !('resolutionKind' in p) || !ESM_ONLY_IGNORED.has(p.resolutionKind))
    .map((p) => `attw ${p.kind}${p.entrypoint ? ` (${p.entrypoint}, ${p.resolutionKind})` : ''}`);
}
