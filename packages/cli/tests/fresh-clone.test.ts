import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, tempDir, testEnv } from './helpers/cli.js';
import { Tmux } from './helpers/tmux.js';

// A new user's path from a fresh clone, with the README's first command alone: `npm ci && npm start`
// in a real terminal. It installs and builds everything (minutes), so it runs only when asked:
// IIH_FRESH_CLONE=1 npx jest tests/fresh-clone.test.ts
const run = process.env.IIH_FRESH_CLONE === '1' ? test : test.skip;
jest.setTimeout(1_800_000);

run('git clone, then `npm ci && npm start`: a chat opens and works with the offline demo', async () => {
  const source = resolve(__dirname, '../../..');
  const dir = tempDir('iih-clone-');
  const clone = join(dir, 'iii-harness');
  execFileSync('git', ['clone', '--quiet', '--no-local', source, clone]);
  const port = await freePort();
  // The usual npm cache (the private HOME would start an empty one).
  const env = testEnv(dir, { III_URL: `ws://127.0.0.1:${port}`, npm_config_cache: join(homedir(), '.npm') });
  const tmux = new Tmux(120, 50);
  try {
    // `--` passes the rest to `iii-harness dev`: a free port for HTTP triggers on a shared machine.
    tmux.start(`sh -c 'npm ci --no-audit --no-fund && npm start -- --http-port 0 --memory'`, env, clone);
    await tmux.waitFor(/wrote iii-permissions\.yaml/, 1_500_000);
    await tmux.waitFor(/Try the offline demo instead\?/, 300_000);
    tmux.keys('y');
    tmux.keys('Enter');
    await tmux.waitFor(/new session \S+ · demo\/demo-scripted/, 60_000);
    tmux.type('hi');
    tmux.keys('Enter');
    await tmux.waitFor(/Allow demo::save_note\?/, 60_000);
    tmux.keys('a');
    await tmux.waitFor(/── done/, 60_000);
    tmux.keys('C-c');
    await tmux.waitFor(/Ctrl-C again to exit/);
    tmux.keys('C-c');
    await tmux.waitFor(/\[exited 0\]/, 120_000);
  } finally {
    tmux.kill();
  }
});
