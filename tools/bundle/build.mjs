// Builds one worker's iii registry bundle: its src/main.ts and every dependency in one ESM file,
// the manifest rewritten for `deploy: bundle`, and a deterministic tar.gz within the registry's
// limits. The archive mirrors the npm package (package.json next to dist/), so `scripts.start`
// is the same `node dist/main.js` and `packageVersion(import.meta.url)` still finds the version.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { build } from 'esbuild';
import { parse, stringify } from 'yaml';
import { ROOT, readJson } from '../lib/workspace.mjs';
import { checkBundleLimits, tarGz } from './tar.mjs';

/** Keys `worker add` rejects in a bundle's manifest (research notes §3.2). */
const BUNDLE_FORBIDDEN = { scripts: ['setup', 'install'], runtime: ['base_image'] };
export const BUNDLE_ENTRY = 'dist/main.js';

// CJS dependencies call require() for Node builtins; ESM output has none without this.
const BANNER =
  "import { createRequire as __iihCreateRequire } from 'node:module';\nconst require = __iihCreateRequire(import.meta.url);";

/**
 * `createRequire(import.meta.url)("../package.json")` in a dependency (iii-sdk reads its version
 * that way) would read the worker's package.json once bundled: inline the JSON it meant instead.
 */
const inlineJsonRequires = {
  name: 'inline-json-requires',
  setup(esbuild) {
    esbuild.onLoad({ filter: /[\\/]node_modules[\\/].*\.m?js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const pattern = /createRequire\(import\.meta\.url\)\((["'])(\.{1,2}\/[^"']+\.json)\1\)/g;
      if (!pattern.test(text)) return undefined;
      const contents = text.replace(pattern, (_, _q, file) => {
        const json = readJson(join(dirname(args.path), file));
        const picked = file.endsWith('package.json') ? { name: json.name, version: json.version } : json;
        return `(${JSON.stringify(picked)})`;
      });
      return { contents, loader: 'js' };
    });
  },
};

/**
 * `entry` (TypeScript) and everything it imports as one ESM file for Node 20+, in memory:
 * `{code, metafile, warnings}`. Workspace packages resolve to their sources, so nothing needs
 * building first.
 */
export async function bundleScript(entry) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: join(dirname(entry), '.bundle-out', BUNDLE_ENTRY),
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    conditions: ['@iii-harness/source'],
    banner: { js: BANNER },
    // Names stay readable in stack traces; whitespace and syntax are what make the size.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    plugins: [inlineJsonRequires],
  });
  return { code: result.outputFiles[0].contents, metafile: result.metafile, warnings: result.warnings };
}

/** The manifest as shipped in the bundle: no install/setup scripts, no base image, start kept. */
export function bundleManifest(source) {
  const manifest = structuredClone(source);
  for (const [section, keys] of Object.entries(BUNDLE_FORBIDDEN)) {
    if (!manifest[section]) continue;
    for (const key of keys) delete manifest[section][key];
    if (Object.keys(manifest[section]).length === 0) delete manifest[section];
  }
  if (manifest.scripts?.start !== `node ${BUNDLE_ENTRY}`)
    throw new Error(`${source.name}: scripts.start must be "node ${BUNDLE_ENTRY}" (got "${manifest.scripts?.start}")`);
  return manifest;
}

/** The package.json inside the bundle: enough for Node (ESM) and for the version. */
function bundlePackageJson(pkg) {
  const { name, version, description, license, repository, homepage } = pkg;
  return { name, version, description, license, repository, homepage, private: true, type: 'module' };
}

/** The npm package a bundled input file comes from (nearest package.json with a name). */
function owningPackage(file, cache) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (cache.has(dir)) return cache.get(dir);
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = readJson(manifest);
      if (!pkg.name) continue;
      const found = { dir, name: pkg.name, version: pkg.version, license: pkg.license };
      cache.set(dir, found);
      return found;
    }
  }
  return undefined;
}

/** One section per third-party package inlined in the bundle, with its license text. */
function thirdPartyNotices(metafile) {
  const cache = new Map();
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    if (!input.split(/[\\/]/).includes('node_modules')) continue;
    const pkg = owningPackage(join(ROOT, input), cache);
    if (pkg) packages.set(`${pkg.name}@${pkg.version}`, pkg);
  }
  const sections = [...packages.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, pkg]) => {
      const file = readdirSync(pkg.dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
      const text = file ? readFileSync(join(pkg.dir, file), 'utf8').trim() : `License: ${pkg.license ?? 'unknown'}`;
      return `${id}\n${'-'.repeat(id.length)}\n${text}\n`;
    });
  return `Third-party software inlined in dist/main.js (${sections.length} packages)\n\n${sections.join('\n')}`;
}

/**
 * Bundle the worker in `pkgDir`; writes `<name>-<version>.iii.tar.gz` (+ `.sha256`) to `outDir`
 * and returns what it made. Throws when the archive would break a registry limit.
 */
export async function bundleWorker(pkgDir, { outDir = join(pkgDir, 'bundle') } = {}) {
  const pkg = readJson(join(pkgDir, 'package.json'));
  const manifest = bundleManifest(parse(readFileSync(join(pkgDir, 'iii.worker.yaml'), 'utf8')));
  const result = await bundleScript(join(pkgDir, 'src', 'main.ts'));
  if (result.warnings.length)
    console.warn(`${manifest.name}: esbuild warnings:\n${result.warnings.map((w) => `  ${w.text}`).join('\n')}`);
  const { code } = result;
  const entries = [
    { path: 'iii.worker.yaml', data: Buffer.from(stringify(manifest, { lineWidth: 0 })) },
    { path: 'package.json', data: Buffer.from(`${JSON.stringify(bundlePackageJson(pkg), null, 2)}\n`) },
    ...(existsSync(join(pkgDir, 'README.md'))
      ? [{ path: 'README.md', data: readFileSync(join(pkgDir, 'README.md')) }]
      : []),
    { path: 'THIRD-PARTY-NOTICES.txt', data: Buffer.from(thirdPartyNotices(result.metafile)) },
    { path: 'dist/' },
    { path: BUNDLE_ENTRY, data: Buffer.from(code), mode: 0o755 },
  ];
  const problems = checkBundleLimits(entries);
  if (problems.length) throw new Error(`${manifest.name}: bundle breaks the registry limits: ${problems.join('; ')}`);
  const archive = tarGz(entries, { mtime: Number(process.env.SOURCE_DATE_EPOCH ?? 0) });
  const sha256 = createHash('sha256').update(archive).digest('hex');
  const file = join(outDir, `${manifest.name}-${pkg.version}.iii.tar.gz`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, archive);
  writeFileSync(`${file}.sha256`, `${sha256}  ${file.split(sep).pop()}\n`);
  return {
    name: manifest.name,
    version: pkg.version,
    file,
    relativeFile: relative(ROOT, file),
    sha256,
    bytes: archive.length,
    unpackedBytes: entries.reduce((n, e) => n + (e.data?.length ?? 0), 0),
    entries: entries.map((e) => e.path),
    manifest,
  };
}
