/**
 * Group commit: writes of one tick share a transaction, each caller gets its own outcome after
 * the commit, order is kept, and a batch that cannot commit is replayed op by op (nothing runs
 * twice, nothing is lost).
 */
import Database from 'better-sqlite3';
import { WriteBatch } from '../src/write-batch.js';

let db: Database.Database;
let batch: WriteBatch;
const rows = () => (db.prepare('SELECT v FROM t ORDER BY rowid').all() as Array<{ v: string }>).map((r) => r.v);
const insert = (v: string) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;

beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE t (v TEXT NOT NULL)');
  batch = new WriteBatch(db);
});

afterEach(() => db.close());

test('writes of one tick run in order in one transaction and resolve once it committed', async () => {
  const seen: boolean[] = [];
  const done = [
    batch.write(insert('a')),
    batch.write(insert('b')),
    batch.write(() => {
      seen.push(db.inTransaction);
      return 'c';
    }),
  ];
  expect(rows()).toEqual([]); // nothing runs before the tick ends
  await expect(Promise.all(done)).resolves.toEqual([1, 1, 'c']);
  expect(rows()).toEqual(['a', 'b']);
  expect(seen).toEqual([true]);
  expect(db.inTransaction).toBe(false);
});

test('an op that throws is undone and rejected alone; the others commit', async () => {
  const failing = () => {
    insert('bad')();
    throw new Error('VALUE_TOO_LARGE');
  };
  const outcomes = await Promise.allSettled([batch.write(insert('a')), batch.write(failing), batch.write(insert('b'))]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(rows()).toEqual(['a', 'b']);
});

test('an error that ends the whole transaction replays the batch op by op, without running anything twice', async () => {
  // What SQLite does on a full disk or an I/O error: the transaction is gone, not just the savepoint.
  const fatal = () => {
    insert('bad')();
    db.exec('ROLLBACK');
    throw new Error('SQLITE_FULL');
  };
  const outcomes = await Promise.allSettled([batch.write(insert('a')), batch.write(fatal), batch.write(insert('b'))]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(rows()).toEqual(['a', 'b']);
  expect(db.inTransaction).toBe(false);
});

test('single-statement writes share the batch without a savepoint, and run in autocommit alone', async () => {
  const inTransaction: boolean[] = [];
  const atomic = (v: string) => () => {
    inTransaction.push(db.inTransaction);
    return insert(v)();
  };
  await Promise.all([batch.write(atomic('a'), { atomic: true }), batch.write(insert('b'))]);
  await batch.write(atomic('c'), { atomic: true });
  expect(inTransaction).toEqual([true, false]);
  expect(rows()).toEqual(['a', 'b', 'c']);
  // A failing statement is undone by SQLite itself; the rest of the batch commits.
  db.exec('CREATE UNIQUE INDEX t_v ON t (v)');
  const outcomes = await Promise.allSettled([
    batch.write(insert('d')),
    batch.write(insert('a'), { atomic: true }),
    batch.write(insert('e')),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(rows()).toEqual(['a', 'b', 'c', 'd', 'e']);
});

test('a read runs at once when nothing is queued, and after the queued writes otherwise', async () => {
  expect(batch.read(() => rows())).toEqual([]);
  const write = batch.write(insert('a'));
  const read = batch.read(() => rows());
  expect(read).toBeInstanceOf(Promise);
  await expect(read).resolves.toEqual(['a']);
  await write;
});
