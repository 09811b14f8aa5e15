import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '@iii-harness/types';
import { connectClient, freePort, spawnDevEngine, spawnNode, waitForPort } from '../src/index.js';

/** A throwaway node script. */
function script(source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'iih-proc-')), 'child.cjs');
  writeFileSync(file, source);
  return file;
}

it('runs the dev engine as its own process: it answers on its URL and is gone after kill -9', async () => {
  const engine = await spawnDevEngine();
  try {
    const client = await connectClient(engine.url);
    try {
      const { functions } = await client.bus.call(contracts.engine.functionsList, {
        prefix: 'engine::functions',
        include_internal: true,
      });
      expect(functions.map((f) => f.function_id)).toContain('engine::functions::list');
    } finally {
      await client.close();
    }
  } finally {
    await engine.proc.kill9();
  }
  expect(engine.proc.alive).toBe(false);
  expect(engine.proc.child.signalCode).toBe('SIGKILL');
  await expect(waitForPort(engine.port, undefined, 300)).rejects.toThrow(`nothing listens on ${engine.port}`);
}, 60_000);

it('waitForPort fails at once when the process dies first, with what it wrote', async () => {
  const port = await freePort();
  const proc = spawnNode('crasher', script("process.stderr.write('boom: bad config\\n'); process.exit(3);"));
  await expect(waitForPort(port, proc)).rejects.toThrow(/crasher exited before listening[\s\S]*boom: bad config/);
  expect(proc.child.exitCode).toBe(3);
});

it('stop() asks with SIGTERM and kills a process that ignores it', async () => {
  const port = await freePort();
  const stubborn = spawnNode(
    'stubborn',
    script(`process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
require('node:net').createServer().listen(${port}, '127.0.0.1');`),
  );
  await waitForPort(port, stubborn);
  await stubborn.stop(300);
  expect(stubborn.child.signalCode).toBe('SIGKILL');
  expect(stubborn.tail()).toContain('ignoring SIGTERM');

  const polite = spawnNode('polite', script('setInterval(() => {}, 1000);'));
  await polite.stop();
  expect(polite.child.signalCode).toBe('SIGTERM');
});
