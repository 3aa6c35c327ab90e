import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchedInsert } from './batched-insert.ts';
import { openMemoryStore } from './open-store.ts';

test('rows go in in order, 32 per statement and the rest one by one, with the ids they got', () => {
  const db = openMemoryStore();
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c TEXT)');
  const ids: [number, number][] = [];
  const insert = new BatchedInsert(db, 'INSERT INTO t (a, b, c)', "(?, ?, 'x')", (first, rows) => ids.push([first, rows]));
  db.transaction(() => {
    for (let i = 0; i < 70; i++) insert.add([i, `row ${i}`]);
    insert.flush();
  })();
  assert.deepEqual(ids, [[1, 32], [33, 32], [65, 6]]);
  const rows = db.prepare('SELECT id, a, b, c FROM t ORDER BY id').all() as { id: number; a: number; b: string; c: string }[];
  assert.equal(rows.length, 70);
  rows.forEach((r, i) => assert.deepEqual(r, { id: i + 1, a: i, b: `row ${i}`, c: 'x' }));
});
