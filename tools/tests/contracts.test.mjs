// Cross-worker calls go through the contracts in `types`: no function id written as a string in a
// call, outside the dev engine (which is the engine) and the contract catalogue itself. Tests call
// through contracts too; only `invoke` may name an id as a string there (a test poking the wire
// with a bad payload, or a function it registered under a name it picked).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../lib/workspace.mjs';

// Type arguments without parentheses (`call<{ a: Array<B> }>(`), possibly over several lines.
const TYPE_ARGS = '(?:<[^()]*>)?';
const LITERAL = String.raw`\(\s*['"\x60]`;
const ENQUEUE_LITERAL = String.raw`\.enqueue\(\s*[^,()]+,\s*['"\x60]`;

/** `.call('x'`, `.callVoid("x"`, `.invoke(\`x\``, `.enqueue(queue, 'x'`: a literal where a contract belongs. */
const SRC_STRING_ID_CALL = new RegExp(
  String.raw`\.(?:call|callVoid|invoke)${TYPE_ARGS}${LITERAL}|${ENQUEUE_LITERAL}`,
  'g',
);
/**
 * The same in tests, except `invoke`, and a console page socket's `page.call('fn', …)` (the page
 * protocol carries the function name as data; that is what the console's allowlist tests poke at).
 */
const TEST_STRING_ID_CALL = new RegExp(
  String.raw`(?<!\bpage)\.(?:call|callVoid)${TYPE_ARGS}${LITERAL}|${ENQUEUE_LITERAL}`,
  'g',
);
const EXEMPT = [/^packages\/dev-engine\//, /^packages\/types\/src\/contracts\//];

function sourceFiles(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(path);
    return /\.(ts|mts|tsx|mjs|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Matches of `pattern` in a file, as `path:line: text` (a call split over lines is one match). */
function matchesIn(file, rel, pattern) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(pattern)].map((match) => {
    const line = text.slice(0, match.index).split('\n').length;
    return `${rel}:${line}: ${text.split('\n')[line - 1].trim()}`;
  });
}

function stringIdCalls(root = ROOT) {
  const found = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', pkg);
    if (!statSync(dir).isDirectory()) continue;
    for (const [folder, pattern] of [
      ['src', SRC_STRING_ID_CALL],
      ['tests', TEST_STRING_ID_CALL],
    ])
      for (const file of sourceFiles(join(dir, folder))) {
        const rel = relative(root, file).split('\\').join('/');
        if (!EXEMPT.some((exempt) => exempt.test(rel))) found.push(...matchesIn(file, rel, pattern));
      }
  }
  return found;
}

const matches = (pattern, text) => [...text.matchAll(pattern)].length > 0;

test('no function id is written as a string in a bus call outside the dev engine and the catalogue', () => {
  assert.deepEqual(stringIdCalls(), []);
});

test('the check sees string ids in the forms people write them', () => {
  for (const line of [
    "await bus.call('session::append', {});",
    'bus.call<{ a: 1 }>("engine::functions::list", {})',
    "bus.call<{ messages: Array<{ entry_id: string }> }>('session::messages', {})",
    'bus.invoke(`provider::${id}::abort`, {})',
    "await bus.enqueue('turn-step', 'turn::provisioning', job)",
    "await bus.enqueue(TURN_STEP_QUEUE.queue, 'turn::steering_check', job)",
    "bus.callVoid('x::y', {})",
    "bus\n  .call(\n    'session::ensure',\n    { session_id },\n  )",
    "bus.call<{\n  turn_id: string;\n}>('run::start', {})",
  ])
    assert.ok(matches(SRC_STRING_ID_CALL, line), line);
  for (const line of [
    'await bus.call(contracts.session.append, payload)',
    'bus.invoke(call.function_id, args)',
    'await bus.enqueue(TURN_STEP_QUEUE.queue, contracts.turn.provisioning, job)',
    'await bus.enqueue(TURN_STEP_QUEUE.queue, turnStepContract(state), job)',
  ])
    assert.ok(!matches(SRC_STRING_ID_CALL, line), line);
});

test('in tests, invoke and the console page protocol may name an id; call and enqueue may not', () => {
  for (const line of [
    "await stack.client.bus.call('run::abort', { session_id })",
    "bus().call('provider::scripted::script', { turns })",
    "client.bus.call<AgentEvent[]>('stream::list', {})",
    "await client.bus.enqueue(TURN_STEP_QUEUE.queue, 'turn::steering_check', job)",
  ])
    assert.ok(matches(TEST_STRING_ID_CALL, line), line);
  for (const line of [
    "await expect(bus.invoke('harness::send', bad)).rejects.toMatchObject({ code: 'invalid_payload' })",
    "const reply = await page.call('session::get', { extra: true })",
    'await bus.call(contracts.run.abort, { session_id })',
  ])
    assert.ok(!matches(TEST_STRING_ID_CALL, line), line);
});

test('the check fails on a workspace with a string id in a package test or source', () => {
  const root = mkdtempSync(join(tmpdir(), 'iih-contracts-'));
  const write = (rel, text) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  try {
    write('packages/demo/src/ok.ts', 'await bus.call(contracts.session.get, { session_id });\n');
    write('packages/demo/tests/ok.test.ts', "await bus.invoke('session::get', { extra: 1 });\n");
    write('packages/dev-engine/src/engine.ts', "await bus.call('state::get', {});\n");
    assert.deepEqual(stringIdCalls(root), []);

    write(
      'packages/demo/tests/helpers/stack.ts',
      "const a = 1;\nawait bus.enqueue(\n  queue,\n  'turn::recover',\n  {},\n);\n",
    );
    write('packages/demo/tests/run.test.mjs', "await client.bus.call('run::start', {});\n");
    write('packages/demo/src/gate.ts', "bus.invoke('approval::hold', {});\n");
    assert.deepEqual(stringIdCalls(root).sort(), [
      "packages/demo/src/gate.ts:1: bus.invoke('approval::hold', {});",
      'packages/demo/tests/helpers/stack.ts:2: await bus.enqueue(',
      "packages/demo/tests/run.test.mjs:1: await client.bus.call('run::start', {});",
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
