// Kernel passes skip event rules whose views brought nothing new: fewer sandbox round trips, and the
// skipped rule still sees every row once rows arrive (its cursor did not move).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStoreForWriting } from '../../store/open-store.ts';
import { CURSOR_START, type RuleCursor } from '../detector.ts';
import { ruleSchema, type Rule } from './rule.ts';
import { SqlDetector } from './sql-detector.ts';
import { cursorFieldsRead } from './rule-context.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-sqldet-'));
const path = join(dir, 'store.db');
const db = openStoreForWriting(path);

const rule = (id: string, sql: string): Rule => ({
  ...ruleSchema.parse({ id, name: id, version: 1, description: 'd', severity: 'low', attack: ['T1059'], kind: 'event', sql }),
  source: 'test',
});
const ptrace = rule('T-PTRACE-1', 'SELECT pid, op AS reason FROM new_process_security_events');
const execs = rule('T-EXEC-1', "SELECT pid, filename AS reason FROM new_process_exec WHERE filename = '/x'");
const detector = new SqlDetector({ dbPath: path, rules: [ptrace, execs], timeoutMs: 5000, maxRowsPerRule: 100 });
after(async () => {
  await detector.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const heads = (): RuleCursor => ({
  ...CURSOR_START,
  exec: (db.prepare('SELECT coalesce(max(id), 0) AS n FROM process_exec').get() as { n: number }).n,
  security: (db.prepare('SELECT coalesce(max(id), 0) AS n FROM process_security_events').get() as { n: number }).n,
});

test('the views a rule reads name the cursor fields it depends on', () => {
  assert.deepEqual(cursorFieldsRead(ptrace.sql), ['security']);
  assert.deepEqual(cursorFieldsRead('SELECT * FROM new_process_exec e JOIN new_process_exit x USING (pid) JOIN new_lifecycle'), ['exec', 'exit', 'lifecycle']);
  assert.deepEqual(cursorFieldsRead('SELECT * FROM processes'), []);
});

test('an event rule with no new rows in its views is skipped; it runs, and sees the rows, once they arrive', async () => {
  db.exec(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id, comm, filename, argv, command_line, args_truncated)
    VALUES (1, 1, 7, 7, 1, 0, 0, 0, 0, 'x', '/x', '["/x"]', '/x', 0)`);
  const cursors = new Map<string, RuleCursor>([[ptrace.id, heads()], [execs.id, CURSOR_START]]);
  const first = await detector.detect({ trigger: 'kernel', scanId: null, heads: heads(), cursors });
  assert.deepEqual(first.outcomes.map((o) => o.ruleId), [execs.id], 'the ptrace rule had nothing new and did not run');
  assert.deepEqual(first.findings.map((f) => f.row['pid']), [7]);

  db.exec(`INSERT INTO process_security_events (time, ktime_ns, op, pid, tid, ppid, user_id, comm, cgroup_id, target_pid, arg0, arg1, name)
    VALUES (2, 2, 'ptrace_attach', 9, 9, 1, 0, 'gdb', 0, 7, 16, 0, '')`);
  const second = await detector.detect({ trigger: 'kernel', scanId: null, heads: heads(), cursors: new Map([[ptrace.id, cursors.get(ptrace.id)!], [execs.id, first.outcomes[0]!.cursor]]) });
  assert.deepEqual(second.outcomes.map((o) => o.ruleId), [ptrace.id], 'now the ptrace rule runs, and the exec rule is skipped');
  assert.deepEqual(second.findings.map((f) => [f.rule.id, f.row['pid']]), [[ptrace.id, 9]]);
});

test('rows committed after a pass took its heads are left to the next pass: each row is seen once', async () => {
  const insertExec = (pid: number) => db.exec(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id, comm, filename, argv, command_line, args_truncated)
    VALUES (1, 1, ${pid}, ${pid}, 1, 0, 0, 0, 0, 'x', '/x', '["/x"]', '/x', 0)`);
  const start = heads();
  insertExec(21);
  const passHeads = heads();
  insertExec(22); // committed while the pass runs
  const only = new SqlDetector({ dbPath: path, rules: [execs], timeoutMs: 5000, maxRowsPerRule: 100 });
  try {
    const first = await only.detect({ trigger: 'kernel', scanId: null, heads: passHeads, cursors: new Map([[execs.id, start]]) });
    assert.deepEqual(first.findings.map((f) => f.row['pid']), [21]);
    const second = await only.detect({ trigger: 'kernel', scanId: null, heads: heads(), cursors: new Map([[execs.id, first.outcomes[0]!.cursor]]) });
    assert.deepEqual(second.findings.map((f) => f.row['pid']), [22]);
  } finally {
    await only.close();
  }
});
