// A throwaway npm registry for release tests: Verdaccio in this process, on a free loopback port,
// storage in a temp dir, no uplinks (it serves only what is published to it), one user.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServer } from 'verdaccio';

export const SCOPE = '@iii-harness';

/**
 * Start the registry. `npmrc` is a userconfig that sends `@iii-harness/*` to it (with a token)
 * and everything else to the usual registry; pass it as `npm_config_userconfig`.
 */
export async function startLocalRegistry() {
  const dir = mkdtempSync(join(tmpdir(), 'iih-registry-'));
  const server = await runServer({
    self_path: dir,
    storage: join(dir, 'storage'),
    auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 10 } },
    uplinks: {},
    packages: {
      [`${SCOPE}/*`]: { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
      '**': { access: '$all', publish: '$authenticated' },
    },
    web: { enable: false },
    log: { type: 'stdout', format: 'json', level: 'fatal' },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  const token = await addUser(url, 'release-test', 'release-test-password');
  const npmrc = join(dir, '.npmrc');
  const hostPath = url.replace(/^http:/, '');
  writeFileSync(npmrc, `${SCOPE}:registry=${url}\n${hostPath}:_authToken=${token}\n`);
  return {
    url,
    npmrc,
    async close() {
      await new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(resolve);
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** npm's adduser call: creates the user and returns its token. */
async function addUser(url, name, password) {
  const response = await fetch(`${url}-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password, type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const body = await response.json();
  if (!response.ok || !body.token) throw new Error(`local registry refused the user: ${JSON.stringify(body)}`);
  return body.token;
}
