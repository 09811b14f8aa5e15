// What a worker package must have before it can land (ARCHITECTURE §4, §8).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Keys iii's `worker add` accepts in iii.worker.yaml; anything else is rejected by the engine. */
const MANIFEST_KEYS = {
  '': [
    'name',
    'description',
    'runtime',
    'scripts',
    'env',
    'dependencies',
    'resources',
    'iii',
    'deploy',
    'manifest',
    'tags',
  ],
  runtime: ['base_image'],
  scripts: ['setup', 'install', 'start'],
  resources: ['cpus', 'memory'],
};
const README_SECTIONS = ['Functions', 'Config', 'Events'];
const SCRIPTS = ['build', 'test', 'typecheck', 'bundle'];
const SOURCES = ['src/main.ts', 'src/register.ts', 'src/index.ts'];

function checkManifest(dir, short, problems) {
  const file = join(dir, 'iii.worker.yaml');
  if (!existsSync(file)) return void problems.push('missing iii.worker.yaml');
  let manifest;
  try {
    manifest = parse(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    return void problems.push(`iii.worker.yaml is not valid YAML: ${error.message}`);
  }
  for (const key of Object.keys(manifest))
    if (!MANIFEST_KEYS[''].includes(key)) problems.push(`iii.worker.yaml: unknown key "${key}"`);
  for (const section of ['runtime', 'scripts', 'resources'])
    for (const key of Object.keys(manifest[section] ?? {}))
      if (!MANIFEST_KEYS[section].includes(key)) problems.push(`iii.worker.yaml: unknown key "${section}.${key}"`);
  for (const section of ['env', 'dependencies'])
    for (const [key, value] of Object.entries(manifest[section] ?? {}))
      if (typeof value !== 'string') problems.push(`iii.worker.yaml: ${section}.${key} must be a string`);
  if (manifest.name !== short)
    problems.push(`iii.worker.yaml: name "${manifest.name}" must equal the package's unscoped name "${short}"`);
  if (!manifest.description) problems.push('iii.worker.yaml: description is required');
  if (!manifest.scripts?.start) problems.push('iii.worker.yaml: scripts.start is required');
  if (manifest.manifest !== 'package.json')
    problems.push('iii.worker.yaml: manifest must be package.json (the version lives there)');
  if (!['bundle', 'image'].includes(manifest.deploy)) problems.push('iii.worker.yaml: deploy must be bundle or image');
}

function checkReadme(dir, problems) {
  const file = join(dir, 'README.md');
  if (!existsSync(file)) return void problems.push('missing README.md');
  const headings = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => /^#{2,3} /.test(line))
    .map((line) => line.replace(/^#+ /, '').trim().toLowerCase());
  for (const section of README_SECTIONS)
    if (!headings.some((heading) => heading.startsWith(section.toLowerCase())))
      problems.push(`README.md: missing a "## ${section}" section`);
}

function checkBundle(pkg, problems) {
  if (pkg.scripts?.bundle && !pkg.scripts.bundle.includes('tools/bundle.mjs'))
    problems.push('package.json: script "bundle" must run tools/bundle.mjs');
  // Without includedScripts nx infers a target from every script; with it, only those listed.
  const included = pkg.nx?.includedScripts;
  if (included && !included.includes('bundle')) problems.push('package.json: nx.includedScripts must include "bundle"');
}

/** `contracts` and every name register.ts takes from it (`const { session } = contracts`, `const x = contracts.y`). */
function contractNames(text) {
  const names = ['contracts'];
  for (const [, list] of text.matchAll(/const\s*\{([^}]*)\}\s*=\s*contracts\s*;/g))
    for (const part of list.split(',')) {
      const name = part.split(':').pop().trim();
      if (name) names.push(name);
    }
  for (const [, name] of text.matchAll(/const\s+(\w+)\s*=\s*contracts\.\w+\s*;/g)) names.push(name);
  return names;
}

/** Names bound to one contract of the catalogue: `const agent = contracts.console.agentEvents(instance);`. */
function contractValues(text) {
  return [...text.matchAll(/const\s+(\w+)\s*=\s*contracts\.\w+\.\w+\s*(?:\([^()]*\))?\s*;/g)].map(([, name]) => name);
}

/**
 * register.ts serves contracts only: each `worker.function(` names a contract (`contracts.x.y`,
 * a family `contracts.provider.stream(id)`, a group taken from `contracts`, or a const bound to one
 * contract of the catalogue), never an id
 * string, an inline declaration or the SDK's registerFunction. Textual, so it reads the forms we write.
 */
function checkRegister(dir, problems) {
  const file = join(dir, 'src/register.ts');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const names = contractNames(text);
  const values = contractValues(text);
  for (const match of text.matchAll(/\.function\(\s*([^,)]*)/g)) {
    const target = match[1].trim();
    const group = target.split('.')[0];
    if (values.includes(target)) continue;
    if (!names.includes(group) || !target.includes('.'))
      problems.push(`src/register.ts: worker.function(${target}, …) must serve a contract from contracts`);
  }
  if (/\bdefineFunction\b|\bregisterFunction\s*\(/.test(text))
    problems.push(
      'src/register.ts: register through worker.function(contract, handler), not defineFunction or registerFunction',
    );
}

/** Problems with one worker package; empty when it may land. */
export function checkWorkerPackage({ dir, folder, pkg }) {
  const problems = [];
  const short = pkg.name?.split('/').pop();
  if (short !== folder) problems.push(`package name "${pkg.name}" must end with the folder name "${folder}"`);
  // `iii-harness` is the CLI's bin, so the harness worker's is `iii-harness-worker`.
  const bin = folder === 'harness' ? 'iii-harness-worker' : `iii-${folder}`;
  if (pkg.bin?.[bin] !== 'dist/main.js') problems.push(`package.json: bin "${bin}" must point to dist/main.js`);
  for (const script of SCRIPTS) if (!pkg.scripts?.[script]) problems.push(`package.json: missing script "${script}"`);
  if (!pkg.files?.includes('iii.worker.yaml')) problems.push('package.json: "files" must include iii.worker.yaml');
  for (const source of SOURCES) if (!existsSync(join(dir, source))) problems.push(`missing ${source}`);
  const tests = join(dir, 'tests');
  if (!existsSync(tests) || !readdirSync(tests).some((file) => file.endsWith('.test.ts')))
    problems.push('tests/ must hold at least one *.test.ts');
  checkBundle(pkg, problems);
  checkRegister(dir, problems);
  checkManifest(dir, short, problems);
  checkReadme(dir, problems);
  return problems;
}
