// Cross-worker calls go through the contracts in `types`: no function id written as a string in a
// call, outside the dev engine (which is the engine) and the contract catalogue itself.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../lib/workspace.mjs';

/** `.call('x'`, `.callVoid("x"`, `.invoke(\`x\``, `.enqueue(queue, 'x'`: a literal where a contract belongs. */
const STRING_ID_CALL = /\.(?:call|callVoid|invoke)(?:<[^>]*>)?\(\s*['"`]|\.enqueue\(\s*[^,()]+,\s*['"`]/;
const EXEMPT = [/^packages\/dev-engine\//, /^packages\/types\/src\/contracts\//];

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(path);
    return /\.(ts|mts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function stringIdCalls(root = ROOT) {
  const found = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    if (!statSync(join(root, 'packages', pkg)).isDirectory()) continue;
    let files = [];
    try {
      files = sourceFiles(src);
    } catch {
      continue;
    }
    for (const file of files) {
      const rel = relative(root, file);
      if (EXEMPT.some((pattern) => pattern.test(rel))) continue;
      // Joined lines, so a call split by the formatter (`bus\n  .call('x'`) is still one match.
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      for (const [index, line] of lines.entries()) {
        const window = `${line}${lines[index + 1]?.trimStart() ?? ''}`;
        if (
          STRING_ID_CALL.test(line) ||
          (/\.(call|callVoid|invoke|enqueue)\($/.test(line.trimEnd()) && STRING_ID_CALL.test(window))
        )
          found.push(`${rel}:${index + 1}: ${line.trim()}`);
      }
    }
  }
  return found;
}

test('no function id is written as a string in a bus call outside the dev engine and the catalogue', () => {
  assert.deepEqual(stringIdCalls(), []);
});

test('the check sees string ids in the forms people write them', () => {
  for (const line of [
    "await bus.call('session::append', {});",
    'bus.call<{ a: 1 }>("engine::functions::list", {})',
    'bus.invoke(`provider::${id}::abort`, {})',
    "await bus.enqueue('turn-step', 'turn::provisioning', job)",
    "bus.callVoid('x::y', {})",
  ])
    assert.match(line, STRING_ID_CALL, line);
  for (const line of [
    'await bus.call(contracts.session.append, payload)',
    'bus.invoke(call.function_id, args)',
    'await bus.enqueue(TURN_STEP_QUEUE.queue, contracts.turn.provisioning, job)',
  ])
    assert.doesNotMatch(line, STRING_ID_CALL, line);
});
