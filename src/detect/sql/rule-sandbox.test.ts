import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isDaemonEyeError } from '../../errors/catalogue.ts';
import { openStoreForWriting } from '../../store/open-store.ts';
import { RuleSandbox } from './rule-sandbox.ts';
import { CURSOR_START } from '../detector.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-sandbox-'));
const path = join(dir, 'store.db');
const w = openStoreForWriting(path);
w.exec(`INSERT INTO scans (host, started_at, status) VALUES ('h', 0, 'complete')`);
w.exec(`INSERT INTO process_lifecycle (scan_id, event, pid, name, command_line, start_time, detected_at) VALUES
  (1, 'start', 10, 'a', 'a', 0, 0), (1, 'start', 11, 'b', 'b', 0, 0), (1, 'stop', 12, 'c', 'c', 0, 0)`);
const sandbox = new RuleSandbox(path);
after(async () => {
  await sandbox.close();
  w.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a rule runs in the sandbox and sees new_lifecycle after its cursor', async () => {
  const all = await sandbox.run('SELECT pid FROM new_lifecycle ORDER BY pid', { timeoutMs: 5000, cursor: CURSOR_START, maxRows: 100 });
  assert.deepEqual(all.rows.map((r) => r['pid']), [10, 11, 12]);
  const later = await sandbox.run('SELECT pid FROM new_lifecycle ORDER BY pid', { timeoutMs: 5000, cursor: { ...CURSOR_START, lifecycle: 2 }, maxRows: 100 });
  assert.deepEqual(later.rows.map((r) => r['pid']), [12]);
});

test('a runaway query is killed at its budget and the next rule still runs', async () => {
  const runaway = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
  await assert.rejects(
    sandbox.run(runaway, { timeoutMs: 300, cursor: CURSOR_START, maxRows: 10 }),
    (e) => isDaemonEyeError(e, 'DE_RULE_TIMEOUT'),
  );
  assert.equal(sandbox.killed, 1);
  const next = await sandbox.run('SELECT count(*) AS n FROM process_lifecycle', { timeoutMs: 5000, cursor: CURSOR_START, maxRows: 10 });
  assert.deepEqual(next.rows, [{ n: 3 }]);
});

test('rows beyond maxRows are cut and flagged', async () => {
  const r = await sandbox.run('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 50) SELECT x FROM c', { timeoutMs: 5000, cursor: CURSOR_START, maxRows: 10 });
  assert.equal(r.rows.length, 10);
  assert.equal(r.truncated, true);
});

test('the sandbox connection cannot write, even if validation were bypassed', async () => {
  await assert.rejects(
    sandbox.run('DELETE FROM scans', { timeoutMs: 5000, cursor: CURSOR_START, maxRows: 10 }),
    (e) => isDaemonEyeError(e, 'DE_RULE_RUNTIME') && /read-only|readonly/.test(e.message),
  );
  assert.equal((w.prepare('SELECT count(*) AS n FROM scans').get() as { n: number }).n, 1);
});

test('a SQL error is reported as DE_RULE_RUNTIME with the reason', async () => {
  await assert.rejects(
    sandbox.run('SELECT nope FROM scans', { timeoutMs: 5000, cursor: CURSOR_START, maxRows: 10 }),
    (e) => isDaemonEyeError(e, 'DE_RULE_RUNTIME') && /no such column/.test(e.message),
  );
});

test('a pass runs all its rules in one request; a runaway or failing rule in the middle costs only itself', async () => {
  const killedBefore = sandbox.killed;
  const count = 'SELECT count(*) AS n FROM new_lifecycle';
  const runaway = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
  const results = await sandbox.runAll([
    { sql: count, cursor: CURSOR_START },
    { sql: 'SELECT nope FROM scans', cursor: CURSOR_START },
    { sql: count, cursor: { ...CURSOR_START, lifecycle: 1 } },
    { sql: runaway, cursor: CURSOR_START },
    { sql: count, cursor: { ...CURSOR_START, lifecycle: 2 } },
  ], { timeoutMs: 300, maxRows: 10 });
  assert.equal(results.length, 5);
  const rows = (i: number) => {
    const r = results[i]!;
    assert.ok(!(r instanceof Error), `rule ${i}: ${(r as Error).message}`);
    return r.rows;
  };
  assert.deepEqual(rows(0), [{ n: 3 }]);
  assert.ok(isDaemonEyeError(results[1], 'DE_RULE_RUNTIME') && /no such column/.test((results[1] as Error).message));
  assert.deepEqual(rows(2), [{ n: 2 }], 'each rule reads from its own cursor');
  assert.ok(isDaemonEyeError(results[3], 'DE_RULE_TIMEOUT'), 'the runaway is the rule reported as timed out');
  assert.deepEqual(rows(4), [{ n: 1 }], 'the rule after the runaway ran in a fresh child');
  assert.equal(sandbox.killed, killedBefore + 1);
});
