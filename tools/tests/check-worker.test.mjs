import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkWorkerPackage } from '../lib/check-worker.mjs';

// The forms a register.ts serves contracts in: a group taken from `contracts` (renamed or not),
// `contracts.x.y` itself, and a family's member.
const REGISTER = `import { contracts } from '@iii-harness/types';
const { session, policy: policyFns } = contracts;
const engine = contracts.engine;
export function register(worker) {
  worker.function(session.append, append(store));
  worker.function(policyFns.checkPermissions, check());
  worker.function(
    contracts.provider.stream(id),
    streamHandler(served),
  );
  worker.function(engine.stateGet, get());
}
`;

function makeWorker(overrides = {}) {
  const dir = join(mkdtempSync(join(tmpdir(), 'iih-worker-')), 'session');
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'tests'));
  const pkg = {
    name: '@iii-harness/session',
    bin: { 'iii-session': 'dist/main.js' },
    files: ['dist', 'iii.worker.yaml'],
    scripts: { build: 'tsc', test: 'jest', typecheck: 'tsc --noEmit', bundle: 'node ../../tools/bundle.mjs' },
    nx: { includedScripts: ['build', 'typecheck', 'test', 'bundle'] },
    ...overrides.pkg,
  };
  const files = {
    'package.json': JSON.stringify(pkg),
    'iii.worker.yaml':
      'iii: v1\nname: session\ndescription: Session tree.\ndeploy: bundle\nmanifest: package.json\nscripts:\n  start: node dist/main.js\n',
    'README.md': '# session\n\n## Functions\n\n## Config\n\n## Events\n',
    'src/main.ts': '',
    'src/register.ts': REGISTER,
    'src/index.ts': '',
    'tests/a.test.ts': '',
    ...overrides.files,
  };
  for (const [name, text] of Object.entries(files))
    if (text === null) rmSync(join(dir, name), { force: true });
    else writeFileSync(join(dir, name), text);
  return { dir, folder: 'session', pkg };
}

test('a complete worker passes', () => {
  assert.deepEqual(checkWorkerPackage(makeWorker()), []);
});

test('a half-made worker is rejected with every missing piece named', () => {
  const worker = makeWorker({
    pkg: { bin: {}, scripts: { build: 'tsc' }, nx: { includedScripts: ['build'] } },
    files: {
      'iii.worker.yaml': null,
      'README.md': '# session\n\n## Functions\n',
      'src/register.ts': null,
      'tests/a.test.ts': null,
    },
  });
  const problems = checkWorkerPackage(worker);
  for (const expected of [
    'bin "iii-session"',
    'missing script "test"',
    'missing script "typecheck"',
    'missing script "bundle"',
    'nx.includedScripts must include "bundle"',
    'missing iii.worker.yaml',
    '"## Config"',
    '"## Events"',
    'missing src/register.ts',
    'tests/ must hold',
  ]) {
    assert.ok(
      problems.some((p) => p.includes(expected)),
      `expected a problem mentioning ${expected}, got:\n${problems.join('\n')}`,
    );
  }
});

test('manifest keys the iii engine would reject are caught', () => {
  const worker = makeWorker({
    files: {
      'iii.worker.yaml':
        'name: sessions\nversion: 1.0.0\ndeploy: docker\nscripts:\n  start: x\n  build: y\nenv:\n  PORT: 3\n',
    },
  });
  const problems = checkWorkerPackage(worker);
  for (const expected of [
    'unknown key "version"',
    'unknown key "scripts.build"',
    'env.PORT must be a string',
    'must equal the package',
    'deploy must be',
    'manifest must be package.json',
    'description is required',
  ]) {
    assert.ok(
      problems.some((p) => p.includes(expected)),
      `expected ${expected} in:\n${problems.join('\n')}`,
    );
  }
});

test('a bundle script that does not run tools/bundle.mjs is caught', () => {
  const worker = makeWorker({
    pkg: { scripts: { build: 'tsc', test: 'jest', typecheck: 'tsc', bundle: 'tar czf x .' } },
  });
  assert.deepEqual(checkWorkerPackage(worker), ['package.json: script "bundle" must run tools/bundle.mjs']);
});

test('register.ts may serve contracts only: no id strings, inline declarations or the raw SDK', () => {
  const register = (body) =>
    checkWorkerPackage(
      makeWorker({
        files: {
          'src/register.ts': `import { contracts } from '@iii-harness/types';\nconst { session } = contracts;\n${body}\n`,
        },
      }),
    );
  const caught = (body, expected) => {
    const problems = register(body);
    assert.ok(
      problems.some((p) => p.includes(expected)),
      `expected ${expected} for ${body}, got:\n${problems.join('\n')}`,
    );
  };
  caught("worker.function('session::append', handler);", "worker.function('session::append', …)");
  caught('worker.function(`session::${name}`, handler);', 'worker.function(`session::${name}`, …)');
  caught('worker.function(appendContract, handler);', 'worker.function(appendContract, …)');
  caught('worker.function(defineFunction({ id: "x::y" }));', 'defineFunction');
  caught('worker.function({ id: "x::y", handler });', 'must serve a contract from contracts');
  caught('worker.function(turnContracts.start, handler);', 'worker.function(turnContracts.start, …)');
  caught("worker.client.registerFunction('x::y', handler);", 'not defineFunction or registerFunction');
  assert.deepEqual(register('worker.function(session.append, handler);'), []);
  // A family member bound once (its id is used again for the trigger): still a contract of the catalogue.
  assert.deepEqual(
    register('const agent = contracts.console.agentEvents(instance);\nworker.function(agent, handler);'),
    [],
  );
  caught('const agent = makeContract(instance);\nworker.function(agent, handler);', 'worker.function(agent, …)');
});
