import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@iii-harness/runtime';
import { captureLogs, eventually } from '@iii-harness/testing';
import { checkPermission, compileKernel, PolicyLoader } from '../src/index.js';

const kernel = compileKernel();
let dir: string;
let file: string;
let loader: PolicyLoader | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iih-policy-'));
  file = join(dir, 'iii-permissions.yaml');
});

afterEach(() => {
  loader?.close();
  loader = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Write the way editors do: a temporary file renamed over the real one. */
function replaceFile(text: string): void {
  const temp = join(dir, `.iii-permissions.yaml.${Math.random().toString(36).slice(2)}`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

async function start(pollMs = 60_000, settleMs = 30) {
  const logs = captureLogs();
  loader = new PolicyLoader({
    path: file,
    debounceMs: 20,
    settleMs,
    pollMs,
    logger: createLogger({ worker: 'harness', level: 'debug', destination: logs.stream }),
  });
  await loader.start();
  const decide = (id: string, args: unknown = {}) =>
    checkPermission(loader!.current(), id, args, { kernel, maxMatchLength: 64 });
  return { logs, decide };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PolicyLoader', () => {
  it('hot-reloads a good edit (replaced by rename) and keeps the last good policy on a bad one', async () => {
    replaceFile('rules: [notes::get]\n');
    const { logs, decide } = await start();
    expect(decide('notes::get')).toEqual({ decision: 'allow', rule_id: 'notes::get' });

    replaceFile("rules: ['!notes::get']\n");
    await eventually(() => expect(decide('notes::get')).toMatchObject({ decision: 'deny', rule_id: '!notes::get' }));

    replaceFile('rules: [{ function: notes::get, action: perhaps }]\n');
    await eventually(() => expect(logs.text()).toContain('keeping the last good policy'));
    expect(decide('notes::get')).toMatchObject({ decision: 'deny', rule_id: '!notes::get' });
    const rejected = logs
      .lines()
      .find((line) => line.msg === 'permissions file rejected; keeping the last good policy');
    expect(String(rejected?.problem)).toContain('rules.0.action');

    replaceFile('rules: [models::list]\n');
    await eventually(() => expect(decide('models::list')).toEqual({ decision: 'allow', rule_id: 'models::list' }));
    expect(decide('notes::get')).toEqual({ decision: 'needs_approval' });
  });

  it('picks up an in-place write too', async () => {
    writeFileSync(file, 'rules: []\n');
    const { decide } = await start();
    expect(decide('notes::get')).toEqual({ decision: 'needs_approval' });
    writeFileSync(file, 'rules: [notes::get]\n');
    await eventually(() => expect(decide('notes::get')).toMatchObject({ decision: 'allow' }));
  });

  it('denies everything until a valid policy was ever loaded, then follows it', async () => {
    const { logs, decide } = await start(50);
    expect(loader!.current()).toBeNull();
    expect(decide('notes::get')).toMatchObject({ decision: 'deny', rule_id: 'no_policy' });
    expect(logs.text()).toContain('no valid permissions policy; denying every call');

    replaceFile('rules: [notes::get, {function: x, action: nope}]\n');
    await eventually(() =>
      expect(logs.lines().filter((l) => l.msg === 'no valid permissions policy; denying every call')).toHaveLength(2),
    );
    expect(decide('notes::get')).toMatchObject({ decision: 'deny', rule_id: 'no_policy' });

    replaceFile('rules: [notes::get]\n');
    await eventually(() => expect(decide('notes::get')).toMatchObject({ decision: 'allow' }));
  });

  it('keeps the last good policy when the file disappears, and logs a rejection only once', async () => {
    replaceFile('rules: [notes::get]\n');
    const { logs, decide } = await start(30);
    unlinkSync(file);
    await eventually(() => expect(logs.text()).toContain('ENOENT'));
    await new Promise((resolve) => setTimeout(resolve, 150)); // several polls
    expect(
      logs.lines().filter((l) => l.msg === 'permissions file rejected; keeping the last good policy'),
    ).toHaveLength(1);
    expect(decide('notes::get')).toMatchObject({ decision: 'allow' });
  });

  it('falls back to polling when the directory does not exist yet', async () => {
    const nested = join(dir, 'later', 'iii-permissions.yaml');
    const logs = captureLogs();
    loader = new PolicyLoader({
      path: nested,
      debounceMs: 10,
      settleMs: 10,
      pollMs: 50,
      logger: createLogger({ worker: 'harness', destination: logs.stream }),
    });
    await loader.start();
    expect(loader.current()).toBeNull();
    mkdirSync(join(dir, 'later'));
    writeFileSync(nested, 'rules: [notes::get]\n');
    await eventually(() => expect(loader!.current()?.rules).toHaveLength(1));
  });

  it('never loads a file while it is being written, even when the part written so far is a valid policy', async () => {
    writeFileSync(file, "rules: ['!fs::*']\n");
    const { decide } = await start(60_000, 2_000);
    const full = [
      'rules:',
      '  - rule_id: tmp-appends',
      '    function: fs::write',
      '    action: allow',
      '    args:',
      "      path: { matches: '^/tmp/' }",
      '      mode: { equals: append }',
      "  - '!fs::*'",
      '',
    ].join('\n');
    // Cut off inside the args block: a valid policy that allows any write under /tmp.
    const cut = full.indexOf('      mode:');
    const overwrite = { path: '/tmp/x', mode: 'overwrite' };
    const handle = openSync(file, 'w');
    try {
      writeSync(handle, full.slice(0, cut));
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) {
        seen.add(decide('fs::write', overwrite).decision);
        await sleep(10);
      }
      expect([...seen]).toEqual(['deny']); // the old policy, all along
      writeSync(handle, full.slice(cut));
    } finally {
      closeSync(handle);
    }
    await eventually(() => expect(loader!.current()?.rules).toHaveLength(2), { timeoutMs: 10_000 });
    expect(decide('fs::write', overwrite)).toMatchObject({ decision: 'deny', rule_id: '!fs::*' });
    expect(decide('fs::write', { path: '/tmp/x', mode: 'append' })).toEqual({
      decision: 'allow',
      rule_id: 'tmp-appends',
    });
  }, 30_000);

  it('logs a reload that widens permissions, with the rules that widen them', async () => {
    replaceFile("rules: ['!shell::exec', notes::get, '!fs::*', 'fs::read']\n");
    const { logs } = await start();
    const widened = () => logs.lines().filter((l) => String(l.msg).includes('WIDENS'));

    replaceFile("rules: [notes::get, notes::set, '!fs::*', 'fs::read']\n");
    await eventually(() => expect(widened()).toHaveLength(1));
    expect(widened()[0]).toMatchObject({
      level: 'warn',
      added_allows: ['notes::set: allow notes::set'],
      removed_denies: ['!shell::exec: deny shell::exec'],
      reordered: false,
    });

    // Narrowing is logged plainly.
    replaceFile("rules: ['!notes::set', notes::get, notes::set, '!fs::*', 'fs::read']\n");
    await eventually(() => expect(logs.lines().filter((l) => l.msg === 'permissions policy loaded')).toHaveLength(2));
    expect(widened()).toHaveLength(1);

    // First match wins, so moving an allow above a deny widens too.
    replaceFile("rules: ['!notes::set', notes::get, notes::set, 'fs::read', '!fs::*']\n");
    await eventually(() => expect(widened()).toHaveLength(2));
    expect(widened()[1]).toMatchObject({ added_allows: [], removed_denies: [], reordered: true });
  });
});
