// End to end: the real CLI against the real /proc, real processes, a real store on disk.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, cliAsync } from './cli-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'de-e2e-'));
const ruleDir = join(work, 'rules');
const children: ChildProcess[] = [];
let sleeper: ChildProcess;
let evilPath: string;

function customRule(id: string, sql: string, extra = ''): string {
  return `id: ${id}
name: test rule ${id}
version: 1
description: a rule written by the end-to-end test
severity: high
attack: [T1070.004]
tags: [test]
sql: |
  ${sql}
${extra}`;
}

before(() => {
  mkdirSync(ruleDir);
  // A real process whose executable was deleted after it started, from a temp directory.
  evilPath = join(work, 'evil-sleep');
  copyFileSync('/bin/sleep', evilPath);
  sleeper = spawn(evilPath, ['300'], { stdio: 'ignore' });
  children.push(sleeper);
  unlinkSync(evilPath);
  writeFileSync(join(ruleDir, 'deleted.yaml'), customRule('TEST-DELETED-1',
    `SELECT pid, name, executable_path, command_line, start_time, 'deleted ' || executable_path AS reason FROM processes WHERE file_exists = 0 AND executable_path = '${evilPath}'`));
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const dataDir = () => join(work, 'data');
const base = (): string[] => ['--data-dir', dataDir()];
const withRules = (): Record<string, string> => ({ DAEMONEYE_DETECTION__RULE_DIRS: `[${ruleDir}]`, DAEMONEYE_ALERTING__STDOUT__FORMAT: 'json' });

describe('daemoneye run --once', () => {
  test('scans, stores, raises an alert for the deleted executable, and exits 1 with --fail-on', () => {
    const r = cli([...base(), 'run', '--once', '--fail-on', 'high'], withRules());
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((a) => a['rule_id'] === 'TEST-DELETED-1');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!['pid'], sleeper.pid);
    assert.equal(mine[0]!['executable_path'], evilPath);
    assert.equal(mine[0]!['summary'], `deleted ${evilPath}`);
    const jsonl = readFileSync(join(dataDir(), 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(jsonl.some((a) => a['rule_id'] === 'TEST-DELETED-1' && a['pid'] === sleeper.pid), 'the JSONL file has the alert too');
  });

  test('the store holds this process with its real attributes', () => {
    const r = cli([...base(), 'query', '--format', 'json', `SELECT * FROM processes WHERE pid = ${sleeper.pid}`]);
    assert.equal(r.status, 0, r.stderr);
    const [row] = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.ok(row);
    assert.equal(row['ppid'], process.pid);
    assert.equal(row['file_exists'], 0);
    assert.equal(row['command_line'], `${evilPath} 300`);
    assert.deepEqual(JSON.parse(row['argv'] as string), [evilPath, '300']);
    assert.equal(row['user_id'], process.getuid!());
    assert.match(String(row['executable_hash']), /^[0-9a-f]{64}$/);
  });

  test('a second cycle does not repeat the alert, and records lifecycle events of a new process', () => {
    const fresh = spawn('sleep', ['301'], { stdio: 'ignore' });
    children.push(fresh);
    const r = cli([...base(), 'run', '--once', '--fail-on', 'high'], withRules());
    assert.equal(r.status, 0, `no new alert, so exit 0: ${r.stdout}`);
    assert.equal(r.stdout.includes('TEST-DELETED-1'), false);
    const q = cli([...base(), 'query', '--format', 'json', `SELECT event, pid FROM process_lifecycle WHERE pid = ${fresh.pid}`]);
    assert.deepEqual(JSON.parse(q.stdout), [{ event: 'start', pid: fresh.pid }]);
    const occ = cli([...base(), 'query', '--format', 'json', `SELECT occurrences FROM alerts WHERE rule_id = 'TEST-DELETED-1'`]);
    assert.deepEqual(JSON.parse(occ.stdout), [{ occurrences: 2 }]);
  });

  test('alerts list filters and formats; ack records triage', () => {
    const list = cli([...base(), 'alerts', 'list', '--rule', 'TEST-DELETED-1', '--severity', 'high', '--since', '1h', '--format', 'json']);
    assert.equal(list.status, 0, list.stderr);
    const alerts = JSON.parse(list.stdout) as { alert_id: number; triage_status: string }[];
    assert.equal(alerts.length, 1);
    assert.equal(cli([...base(), 'alerts', 'list', '--severity', 'critical', '--rule', 'TEST-DELETED-1', '--format', 'json']).stdout.trim(), '[]');
    const ack = cli([...base(), 'alerts', 'ack', String(alerts[0]!.alert_id), '--note', 'known test']);
    assert.equal(ack.status, 0, ack.stderr);
    const show = cli([...base(), 'alerts', 'show', String(alerts[0]!.alert_id)]);
    assert.match(show.stdout, /"triage_status": "acknowledged"/);
    const csv = cli([...base(), 'alerts', 'list', '--format', 'csv']);
    assert.match(csv.stdout.split('\n')[0]!, /^alert_id,alert_uuid,rule_id/);
  });

  test('every alert and triage action is in the audit ledger, which verifies, and a forged entry is caught', () => {
    const verify = cli([...base(), 'audit', 'verify']);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const q = cli([...base(), 'query', '--format', 'json', `SELECT alert_id FROM alerts WHERE rule_id = 'TEST-DELETED-1'`]);
    const alert_id = (JSON.parse(q.stdout) as { alert_id: number }[])[0]!.alert_id;
    const proof = JSON.parse(cli([...base(), 'audit', 'proof', String(alert_id)]).stdout) as { entry: string; audit_path: string[] };
    assert.match(proof.entry, /"rule_id":"TEST-DELETED-1"/);
    const kinds = JSON.parse(cli([...base(), 'query', '--format', 'json', 'SELECT DISTINCT kind FROM ledger_entries ORDER BY kind']).stdout) as { kind: string }[];
    assert.deepEqual(kinds.map((k) => k.kind), ['alert', 'alert_triage', 'config_loaded', 'rule_loaded']);

    // Someone edits the recorded summary of the alert behind DaemonEye's back.
    const copy = join(work, 'data-forged');
    mkdirSync(copy);
    copyFileSync(join(dataDir(), 'daemoneye.db'), join(copy, 'daemoneye.db'));
    for (const f of ['ledger-key.pem', 'ledger-key.pub.pem']) copyFileSync(join(dataDir(), f), join(copy, f));
    const db = new Database(join(copy, 'daemoneye.db'));
    db.prepare(`UPDATE ledger_entries SET entry = replace(entry, 'deleted ', 'harmless ') WHERE kind = 'alert'`).run();
    db.close();
    const forged = cli(['--data-dir', copy, 'audit', 'verify']);
    assert.equal(forged.status, 5);
    assert.match(forged.stdout + forged.stderr, /edited/);
  });

  test('query refuses writes with a code and hint, and leaves the store intact', () => {
    const r = cli([...base(), 'query', 'DELETE FROM alerts']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /error DE_QUERY_INVALID: .*DELETE.*\n  hint: /);
    const n = cli([...base(), 'query', '--format', 'json', 'SELECT count(*) AS n FROM alerts']);
    assert.ok((JSON.parse(n.stdout) as { n: number }[])[0]!.n >= 1);
    assert.match(cli([...base(), 'query', "SELECT load_extension('/tmp/x.so')"]).stderr, /load_extension\(\) is banned/);
  });

  test('a malformed rule and a runaway rule are reported while the other rules keep working', () => {
    const dir = join(work, 'rules-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'broken.yaml'), 'id: TEST-BROKEN-1\nname: [unclosed\n');
    writeFileSync(join(dir, 'writer.yaml'), customRule('TEST-WRITER-1', 'DELETE FROM alerts'));
    writeFileSync(join(dir, 'runaway.yaml'), customRule('TEST-RUNAWAY-1', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c'));
    writeFileSync(join(dir, 'good.yaml'), customRule('TEST-GOOD-1', `SELECT pid, start_time, name FROM processes WHERE pid = ${sleeper.pid}`));
    const data = join(work, 'data-bad');
    const r = cli(['--data-dir', data, 'run', '--once'], {
      DAEMONEYE_DETECTION__RULE_DIRS: `[${dir}]`, DAEMONEYE_DETECTION__RULE_TIMEOUT_MS: '500', DAEMONEYE_DETECTION__BUILTIN_RULES: 'false',
      DAEMONEYE_ALERTING__STDOUT__FORMAT: 'json',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /rule rejected code="DE_RULE_PARSE".*broken\.yaml/);
    assert.match(r.stderr, /rule rejected code="DE_RULE_SQL".*TEST-WRITER-1/);
    assert.match(r.stderr, /rule timeout rule="TEST-RUNAWAY-1"/);
    assert.match(r.stdout, /"rule_id":"TEST-GOOD-1"/);
    const status = cli(['--data-dir', data, 'query', '--format', 'json', 'SELECT rule_id, last_status FROM rules ORDER BY rule_id']);
    assert.deepEqual(JSON.parse(status.stdout), [{ rule_id: 'TEST-GOOD-1', last_status: 'ok' }, { rule_id: 'TEST-RUNAWAY-1', last_status: 'timeout' }]);
  });

  test('a corrupt store stops the agent with a clear error and is left as it was', () => {
    const data = join(work, 'data-corrupt');
    mkdirSync(data);
    const junk = Buffer.from('MZ not a database '.repeat(100));
    writeFileSync(join(data, 'daemoneye.db'), junk);
    const r = cli(['--data-dir', data, 'run', '--once']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /error DE_STORE_CORRUPT: .*not a SQLite database.*\n  hint: the file was left untouched/);
    assert.deepEqual(readFileSync(join(data, 'daemoneye.db')), junk);
  });
});

/** Starts `daemoneye run --interval 1` and resolves once it has logged `cycles` cycles. */
async function startAgent(data: string, cycles: number): Promise<{ agent: ChildProcess; log: () => string }> {
  const agent = cliAsync(['--data-dir', data, 'run', '--interval', '1']);
  children.push(agent);
  let stderr = '';
  agent.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const seen = () => stderr.split('\n').filter((l) => l.includes(' cycle ')).length;
  for (let i = 0; i < 1200 && seen() < cycles; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(seen() >= cycles, `${cycles} cycles expected, log:\n${stderr}`);
  return { agent, log: () => stderr };
}

describe('daemoneye run (continuous)', () => {
  test('scans on its interval, refuses a second agent on the same store, and stops cleanly on SIGTERM', async () => {
    const data = join(work, 'data-loop');
    const { agent, log } = await startAgent(data, 2);

    const second = cli(['--data-dir', data, 'run', '--once']);
    assert.equal(second.status, 3);
    assert.match(second.stderr, /DE_STORE_LOCKED: another agent \(pid \d+\) is running/);

    const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
    agent.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(log(), /stopping signal="SIGTERM"[\s\S]*agent stopped/);
    assert.equal(existsSync(join(data, 'agent.lock')), false, 'the lock is released');
    const db = new Database(join(data, 'daemoneye.db'), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const scans = db.prepare(`SELECT count(*) AS n FROM scans WHERE status = 'complete'`).get() as { n: number };
    const orphans = db.prepare('SELECT count(*) AS n FROM process_snapshots WHERE scan_id NOT IN (SELECT scan_id FROM scans)').get() as { n: number };
    db.close();
    assert.ok(scans.n >= 2);
    assert.equal(orphans.n, 0);
  });

  test('SIGKILL mid-run loses nothing committed: a restart takes over and the store is consistent', async () => {
    const data = join(work, 'data-kill');
    const { agent } = await startAgent(data, 2);
    const exited = new Promise((resolve) => agent.on('exit', resolve));
    agent.kill('SIGKILL');
    await exited;
    const r = cli(['--data-dir', data, 'run', '--once']);
    assert.equal(r.status, 0, r.stderr);
    const db = new Database(join(data, 'daemoneye.db'), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const counts = db.prepare(`SELECT s.scan_id, s.process_count, count(p.pid) AS stored FROM scans s
      LEFT JOIN process_snapshots p USING (scan_id) GROUP BY s.scan_id`).all() as { process_count: number; stored: number }[];
    db.close();
    assert.ok(counts.length >= 3);
    for (const c of counts) assert.equal(c.stored, c.process_count, 'every scan is whole');
  });

  test('a stale lock left by a killed agent is taken over', () => {
    const data = join(work, 'data-stale');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'agent.lock'), '999999999');
    const r = cli(['--data-dir', data, 'run', '--once']);
    assert.equal(r.status, 0, r.stderr);
  });
});
