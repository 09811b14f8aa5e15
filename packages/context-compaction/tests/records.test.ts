import { contracts } from '@iii-harness/types';
import { chatSession } from './helpers.js';
import { compactSession, getState, type Stack, startStack } from './stack.js';

/**
 * The lease and the health record are versioned: records written before they carried `v`
 * (version 1, today's shape) are read through the worker as they are and written back stamped;
 * a record of a newer version is refused with a clear error and left as it was.
 */
const SCOPE = 'compaction';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ compaction: { busy_wait_ms: 0 } });
}, 60_000);
afterAll(async () => s?.close());

const put = (key: string, value: unknown) => s.client.bus.call(contracts.engine.stateSet, { scope: SCOPE, key, value });
const stored = (key: string) => s.client.bus.call(contracts.engine.stateGet, { scope: SCOPE, key });

const oldHealth = {
  consecutive_failures: 3,
  breaker_open: true,
  compactions: 4,
  last_result: null,
  last_failure: { at: 1000, status: 'failed', message: 'from before versions' },
  no_progress_leaf: null,
  pending: null,
};

it('reads a lease and a health record written before versions, and stamps them when it writes them', async () => {
  const { session_id } = await chatSession(s, { turns: 2, words: 5, model: 'big-32k' });
  const expires_at = Date.now() + 600_000;
  await put(`lease:${session_id}`, { epoch: 3, claimed_at: 1000, holder_epoch: 3, holder: 'old-replica', expires_at });
  await put(`health:${session_id}`, oldHealth);
  expect(await getState(s, session_id)).toMatchObject({
    lease: { held: true, holder: 'old-replica', expires_at },
    consecutive_failures: 3,
    breaker_open: true,
    compactions: 4,
    last_failure: oldHealth.last_failure,
  });

  // The old holder let go: /compact takes the lease and writes its outcome, both stamped.
  await put(`lease:${session_id}`, { epoch: 3, claimed_at: 0, holder_epoch: 3, holder: 'old-replica', expires_at: 0 });
  await compactSession(s, { session_id });
  expect(await stored(`lease:${session_id}`)).toMatchObject({ v: 1, epoch: 4, holder_epoch: 4 });
  expect(await stored(`health:${session_id}`)).toMatchObject({ v: 1, breaker_open: false });
}, 60_000);

it('refuses a lease or health record of a newer version with a clear error, and leaves it as it was', async () => {
  const refused = (what: string, key: string) => ({
    code: 'unavailable',
    reason: 'unsupported_record_version',
    message: `${what} at ${SCOPE}/${key} has version 99; this worker reads versions up to 1 (upgrade the worker)`,
  });
  const { session_id } = await chatSession(s, { turns: 2, words: 5, model: 'big-32k' });
  const futureLease = { v: 99, epoch: 7, shape: 'from the future' };
  await put(`lease:${session_id}`, futureLease);
  await expect(getState(s, session_id)).rejects.toMatchObject(refused('compaction lease', `lease:${session_id}`));
  await expect(compactSession(s, { session_id })).rejects.toMatchObject(
    refused('compaction lease', `lease:${session_id}`),
  );
  expect(await stored(`lease:${session_id}`)).toEqual(futureLease);

  const other = (await chatSession(s, { turns: 2, words: 5, model: 'big-32k' })).session_id;
  const futureHealth = { v: 99, consecutive_failures: 'many' };
  await put(`health:${other}`, futureHealth);
  await expect(getState(s, other)).rejects.toMatchObject(refused('compaction health', `health:${other}`));
  await expect(compactSession(s, { session_id: other })).rejects.toMatchObject(
    refused('compaction health', `health:${other}`),
  );
  expect(await stored(`health:${other}`)).toEqual(futureHealth);
}, 60_000);
