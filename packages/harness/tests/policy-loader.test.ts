import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
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

function start(pollMs = 60_000) {
  const logs = captureLogs();
  loader = new PolicyLoader({
    path: file,
    debounceMs: 20,
    pollMs,
    logger: createLogger({ worker: 'harness', level: 'debug', destination: logs.stream }),
  });
  loader.start();
  const decide = (id: string) => checkPermission(loader!.current(), id, {}, { kernel, maxMatchLength: 64 });
  return { logs, decide };
}

describe('PolicyLoader', () => {
  it('hot-reloads a good edit (replaced by rename) and keeps the last good policy on a bad one', async () => {
    replaceFile('rules: [state::get]\n');
    const { logs, decide } = start();
    expect(decide('state::get')).toEqual({ decision: 'allow', rule_id: 'state::get' });

    replaceFile("rules: ['!state::get']\n");
    await eventually(() => expect(decide('state::get')).toMatchObject({ decision: 'deny', rule_id: '!state::get' }));

    replaceFile('rules: [{ function: state::get, action: perhaps }]\n');
    await eventually(() => expect(logs.text()).toContain('keeping the last good policy'));
    expect(decide('state::get')).toMatchObject({ decision: 'deny', rule_id: '!state::get' });
    const rejected = logs
      .lines()
      .find((line) => line.msg === 'permissions file rejected; keeping the last good policy');
    expect(String(rejected?.problem)).toContain('rules.0.action');

    replaceFile('rules: [models::list]\n');
    await eventually(() => expect(decide('models::list')).toEqual({ decision: 'allow', rule_id: 'models::list' }));
    expect(decide('state::get')).toEqual({ decision: 'needs_approval' });
  });

  it('picks up an in-place write too', async () => {
    writeFileSync(file, 'rules: []\n');
    const { decide } = start();
    expect(decide('state::get')).toEqual({ decision: 'needs_approval' });
    writeFileSync(file, 'rules: [state::get]\n');
    await eventually(() => expect(decide('state::get')).toMatchObject({ decision: 'allow' }));
  });

  it('denies everything until a valid policy was ever loaded, then follows it', async () => {
    const { logs, decide } = start(50);
    expect(loader!.current()).toBeNull();
    expect(decide('state::get')).toMatchObject({ decision: 'deny', rule_id: 'no_policy' });
    expect(logs.text()).toContain('no valid permissions policy; denying every call');

    replaceFile('rules: [state::get, {function: x, action: nope}]\n');
    await eventually(() =>
      expect(logs.lines().filter((l) => l.msg === 'no valid permissions policy; denying every call')).toHaveLength(2),
    );
    expect(decide('state::get')).toMatchObject({ decision: 'deny', rule_id: 'no_policy' });

    replaceFile('rules: [state::get]\n');
    await eventually(() => expect(decide('state::get')).toMatchObject({ decision: 'allow' }));
  });

  it('keeps the last good policy when the file disappears, and logs a rejection only once', async () => {
    replaceFile('rules: [state::get]\n');
    const { logs, decide } = start(30);
    unlinkSync(file);
    await eventually(() => expect(logs.text()).toContain('ENOENT'));
    await new Promise((resolve) => setTimeout(resolve, 150)); // several polls
    expect(
      logs.lines().filter((l) => l.msg === 'permissions file rejected; keeping the last good policy'),
    ).toHaveLength(1);
    expect(decide('state::get')).toMatchObject({ decision: 'allow' });
  });

  it('falls back to polling when the directory does not exist yet', async () => {
    const nested = join(dir, 'later', 'iii-permissions.yaml');
    const logs = captureLogs();
    loader = new PolicyLoader({
      path: nested,
      debounceMs: 10,
      pollMs: 50,
      logger: createLogger({ worker: 'harness', destination: logs.stream }),
    });
    loader.start();
    expect(loader.current()).toBeNull();
    mkdirSync(join(dir, 'later'));
    writeFileSync(nested, 'rules: [state::get]\n');
    await eventually(() => expect(loader!.current()?.rules).toHaveLength(1));
  });
});
