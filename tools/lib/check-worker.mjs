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
const SCRIPTS = ['build', 'test', 'typecheck'];
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
  checkManifest(dir, short, problems);
  checkReadme(dir, problems);
  return problems;
}
