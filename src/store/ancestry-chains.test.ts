import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KernelEvent } from '../normalize/kernel-event.ts';
import { AncestryChains } from './ancestry-chains.ts';
import { KernelEventWriter } from './kernel-event-writer.ts';
import { openMemoryStore } from './open-store.ts';

const exec = (pid: number, ppid: number): KernelEvent => ({
  kind: 'exec', ktimeNs: BigInt(pid) * 1000n, pid, tid: pid, ppid, uid: 0, gid: 0, euid: 0, cgroupId: 1n, comm: 'true',
  filename: '/bin/true', argv: ['true'], argsTruncated: false,
});
const chainOf = (ppid: number) => JSON.stringify([{ pid: ppid, name: 'bash', exe: '/usr/bin/bash' }, { pid: 1, name: 'systemd', exe: null }]);

test('execs of one parent share one stored chain, and process_exec shows each its ancestry as before', () => {
  const db = openMemoryStore();
  const writer = new KernelEventWriter(db);
  const events = [exec(10, 5), exec(11, 5), exec(12, 6), exec(13, 5)];
  writer.write(events, () => 0, { ancestry: (e) => (e.kind === 'exec' ? chainOf(e.ppid) : null) });
  writer.write([exec(14, 7)], () => 0, { ancestry: () => null });
  assert.equal(db.prepare('SELECT count(*) FROM process_ancestry').pluck().get(), 2);
  const rows = db.prepare('SELECT pid, ancestry FROM process_exec ORDER BY id').all() as { pid: number; ancestry: string | null }[];
  assert.deepEqual(rows, [
    { pid: 10, ancestry: chainOf(5) }, { pid: 11, ancestry: chainOf(5) }, { pid: 12, ancestry: chainOf(6) },
    { pid: 13, ancestry: chainOf(5) }, { pid: 14, ancestry: null },
  ]);
  // Rules see the same thing through the JSON functions.
  assert.equal(db.prepare(`SELECT count(*) FROM process_exec, json_each(ancestry) a WHERE json_extract(a.value, '$.name') = 'systemd'`).pluck().get(), 4);
});

test('rows inserted into the process_exec view (fixtures, tests) store and share chains too; delete goes through', () => {
  const db = openMemoryStore();
  const insert = db.prepare(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id,
    comm, filename, argv, command_line, args_truncated, ancestry) VALUES (1, 1, ?, ?, 5, 0, 0, 0, 0, 'sh', '/bin/sh', '[]', 'sh', 0, ?)`);
  insert.run(20, 20, chainOf(5));
  insert.run(21, 21, chainOf(5));
  insert.run(22, 22, null);
  assert.deepEqual(db.prepare('SELECT id, chain, last_exec_id FROM process_ancestry').all(), [{ id: 1, chain: chainOf(5), last_exec_id: 2 }]);
  assert.deepEqual(db.prepare('SELECT pid, ancestry, degraded FROM process_exec ORDER BY pid').all(), [
    { pid: 20, ancestry: chainOf(5), degraded: 0 }, { pid: 21, ancestry: chainOf(5), degraded: 0 }, { pid: 22, ancestry: null, degraded: 0 },
  ]);
  assert.equal(db.prepare('DELETE FROM process_exec WHERE pid = 20').run().changes, 0, 'INSTEAD OF triggers report no changes');
  assert.deepEqual(db.prepare('SELECT pid FROM process_exec ORDER BY pid').pluck().all(), [21, 22]);
});

test('collection keeps every chain a remaining row uses and drops the ones whose rows are all gone', () => {
  const db = openMemoryStore();
  const chains = new AncestryChains(db);
  const rowsInsert = db.prepare(`INSERT INTO process_exec_rows (id, time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id,
    cgroup_id, comm, filename, argv, command_line, args_truncated, ancestry_id) VALUES (?, 0, 0, 1, 1, 1, 0, 0, 0, 0, 'x', '/x', '[]', 'x', 0, ?)`);
  const use = (chain: string, id: number) => {
    rowsInsert.run(id, chains.idOf(chain));
    chains.used(chain, id);
  };
  // 'old' is used by rows 1..3 only; 'busy' is used at 1 and then far later (its mark written rarely).
  use('old', 1); use('old', 2); use('old', 3);
  use('busy', 4);
  for (let id = 5; id < 250_000; id += 997) use('busy', id);
  use('busy', 250_000);
  // Retention removed everything below 200,000: 'old' has no rows left, 'busy' still has some.
  db.prepare('DELETE FROM process_exec_rows WHERE id < 200000').run();
  assert.equal(chains.collect(), 1);
  assert.deepEqual(db.prepare('SELECT chain FROM process_ancestry').pluck().all(), ['busy']);
  // A chain collected and then seen again is stored afresh, not pointed at a deleted id.
  use('old', 250_001);
  assert.equal(db.prepare('SELECT count(*) FROM process_exec WHERE ancestry = ?').pluck().get('old'), 1);
  db.prepare('DELETE FROM process_exec_rows').run();
  assert.equal(chains.collect(), 2, 'an empty table uses no chain');
});

test('a batch that fails is rolled back whole, and the next batch neither repeats its rows nor points at its chains', () => {
  const db = openMemoryStore();
  db.exec(`CREATE TRIGGER boom BEFORE INSERT ON process_exit WHEN NEW.pid = 666 BEGIN SELECT RAISE(ABORT, 'disk full, say'); END`);
  const writer = new KernelEventWriter(db);
  const exit = (pid: number): KernelEvent => ({ kind: 'exit', ktimeNs: 1n, pid, tid: pid, ppid: 5, uid: 0, gid: 0, euid: 0, cgroupId: 1n, comm: 'x', exitCode: 0, signal: 0 });
  const ancestry = (e: KernelEvent) => (e.kind === 'exec' ? chainOf(e.ppid) : null);
  assert.throws(() => writer.write([exec(30, 9), exit(666)], () => 0, { ancestry }), /disk full/);
  assert.equal(db.prepare('SELECT count(*) FROM process_exec').pluck().get(), 0);
  writer.write([exec(31, 9), exit(31)], () => 0, { ancestry });
  assert.deepEqual(db.prepare('SELECT pid, ancestry FROM process_exec').all(), [{ pid: 31, ancestry: chainOf(9) }]);
  assert.deepEqual(db.prepare('SELECT pid FROM process_exit').pluck().all(), [31]);
});
