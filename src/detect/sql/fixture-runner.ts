// `daemoneye rules test`: every rule against its fixtures. Each fixture becomes a real store file
// (same migrations as the agent's) holding one complete scan, and the rule runs through the same
// sandbox as in production, so what passes here is what runs on hosts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PROCESS_SNAPSHOT_COLUMNS } from '../../normalize/process-snapshot.ts';
import { openStoreForWriting } from '../../store/open-store.ts';
import type { Fixture, Rule } from './rule.ts';
import { RuleSandbox } from './rule-sandbox.ts';
import { CURSOR_START } from '../detector.ts';
import { writeNetworkFixtures } from '../../network/rule-fixtures.ts';

export interface FixtureResult {
  readonly ruleId: string;
  readonly fixture: string;
  readonly passed: boolean;
  readonly message: string;
  readonly rows: readonly Record<string, unknown>[];
}

const BASE_TIME = 1_767_225_600_000; // 2026-01-01T00:00:00Z: fixtures are deterministic

const LIFECYCLE_COLUMNS = ['event', 'pid', 'ppid', 'name', 'executable_path', 'command_line', 'user_id',
  'start_time', 'detected_at', 'changed_fields', 'previous'] as const;

/** A full process row from the few columns a fixture names; neutral values for the rest. */
export function fixtureProcess(given: Readonly<Record<string, unknown>>, index: number): Record<string, unknown> {
  for (const k of Object.keys(given)) {
    if (!(PROCESS_SNAPSHOT_COLUMNS as readonly string[]).includes(k)) throw new Error(`unknown process column "${k}"`);
  }
  const pid = (given['pid'] as number | undefined) ?? 1000 + index;
  const exe = given['executable_path'] === undefined ? '/usr/bin/proc' : (given['executable_path'] as string | null);
  const cmd = (given['command_line'] as string | undefined) ?? exe ?? '';
  const uid = (given['user_id'] as number | undefined) ?? 1000;
  const gid = (given['group_id'] as number | undefined) ?? 1000;
  const row: Record<string, unknown> = {
    pid, ppid: 1, name: 'proc', executable_path: exe, command_line: cmd, argv: cmd === '' ? [] : cmd.split(' '),
    start_time: BASE_TIME + index * 1000, start_ticks: 100 + index, cpu_usage: 0, memory_usage: 1 << 20,
    status: 'sleeping', executable_hash: null, hash_algorithm: null, hash_status: 'none', user_id: uid,
    group_id: gid, effective_user_id: uid, effective_group_id: gid, user_name: uid === 0 ? 'root' : 'user',
    accessible: 1, file_exists: 1, cwd: '/', tty: null, session_id: pid, pgid: pid, threads: 1,
    pid_ns: 4026531836, mnt_ns: 4026531841, net_ns: 4026531840, container_id: null, environment: {},
    is_kernel_thread: 0, collection_time: BASE_TIME + 3_600_000, ...given,
  };
  for (const k of ['argv', 'environment']) if (typeof row[k] === 'object' && row[k] !== null) row[k] = JSON.stringify(row[k]);
  return row;
}

export function fixtureLifecycle(given: Readonly<Record<string, unknown>>, index: number): Record<string, unknown> {
  for (const k of Object.keys(given)) {
    if (!(LIFECYCLE_COLUMNS as readonly string[]).includes(k)) throw new Error(`unknown lifecycle column "${k}"`);
  }
  const exe = given['executable_path'] === undefined ? '/usr/bin/proc' : given['executable_path'];
  const row: Record<string, unknown> = {
    event: 'start', pid: 2000 + index, ppid: 1, name: 'proc', executable_path: exe,
    command_line: (given['command_line'] as string | undefined) ?? exe ?? '', user_id: 1000,
    start_time: BASE_TIME + index * 1000, detected_at: BASE_TIME + 3_600_000, changed_fields: null, previous: null, ...given,
  };
  for (const k of ['changed_fields', 'previous']) if (typeof row[k] === 'object' && row[k] !== null) row[k] = JSON.stringify(row[k]);
  return row;
}

const EXEC_COLUMNS = ['time', 'ktime_ns', 'pid', 'tid', 'ppid', 'user_id', 'group_id', 'effective_user_id', 'cgroup_id',
  'comm', 'filename', 'argv', 'command_line', 'args_truncated', 'ancestry', 'cwd', 'process_start_time', 'container_id', 'degraded',
  'executable_mtime'] as const;
const EXIT_COLUMNS = ['time', 'ktime_ns', 'pid', 'ppid', 'user_id', 'comm', 'exit_code', 'signal'] as const;

const CONN_COLUMNS = ['time', 'ktime_ns', 'event', 'pid', 'tid', 'ppid', 'user_id', 'comm', 'cgroup_id', 'family', 'protocol',
  'local_address', 'local_port', 'remote_address', 'remote_port'] as const;
const SEC_COLUMNS = ['time', 'ktime_ns', 'op', 'pid', 'tid', 'ppid', 'user_id', 'comm', 'cgroup_id', 'target_pid', 'arg0', 'arg1', 'name'] as const;

function fixtureConnection(given: Readonly<Record<string, unknown>>, index: number): Record<string, unknown> {
  checkColumns(given, CONN_COLUMNS, 'network_connections');
  const pid = (given['pid'] as number | undefined) ?? 4000 + index;
  return {
    time: BASE_TIME + index, ktime_ns: 3_000_000 * (index + 1), event: 'connect', pid, tid: pid, ppid: 1, user_id: 1000, comm: 'proc',
    cgroup_id: 1, family: 4, protocol: 'tcp', local_address: '10.0.0.5', local_port: 40000 + index, remote_address: '192.0.2.10',
    remote_port: 443, ...given,
  };
}

function fixtureSecurity(given: Readonly<Record<string, unknown>>, index: number): Record<string, unknown> {
  checkColumns(given, SEC_COLUMNS, 'process_security_events');
  const pid = (given['pid'] as number | undefined) ?? 5000 + index;
  return {
    time: BASE_TIME + index, ktime_ns: 4_000_000 * (index + 1), op: 'memfd_create', pid, tid: pid, ppid: 1, user_id: 1000, comm: 'proc',
    cgroup_id: 1, target_pid: 0, arg0: 0, arg1: 0, name: '', ...given,
  };
}

function checkColumns(given: Readonly<Record<string, unknown>>, allowed: readonly string[], table: string): void {
  for (const k of Object.keys(given)) if (!allowed.includes(k)) throw new Error(`unknown ${table} column "${k}"`);
}

/** A process_exec row from what a fixture names; argv may be given as a list, command_line follows it. */
export function fixtureExec(given: Readonly<Record<string, unknown>>, index: number): Record<string, unknown> {
  checkColumns(given, EXEC_COLUMNS, 'process_exec');
  const filename = (given['filename'] as string | undefined) ?? '/usr/bin/proc';
  const argv = (given['argv'] as string[] | string | undefined) ?? [filename];
  const list = typeof argv === 'string' ? (JSON.parse(argv) as string[]) : argv;
  const pid = (given['pid'] as number | undefined) ?? 3000 + index;
  return {
    time: BASE_TIME + index, ktime_ns: 1_000_000 * (index + 1), pid, tid: pid, ppid: 1, user_id: 1000, group_id: 1000,
    effective_user_id: (given['user_id'] as number | undefined) ?? 1000, cgroup_id: 1, comm: filename.split('/').pop()!.slice(0, 15),
    filename, command_line: list.join(' '), args_truncated: 0, ancestry: null, cwd: null, process_start_time: null, container_id: null,
    degraded: 0, executable_mtime: null, ...given, argv: JSON.stringify(list),
  };
}

export function fixtureExit(given: Readonly<Record<string, unknown>>, index: number): Record<string, unknown> {
  checkColumns(given, EXIT_COLUMNS, 'process_exit');
  return { time: BASE_TIME + index, ktime_ns: 2_000_000 * (index + 1), pid: 3000 + index, ppid: 1, user_id: 1000, comm: 'proc', exit_code: 0, signal: 0, ...given };
}

function writeFixtureStore(path: string, fixture: Fixture): void {
  openStoreForWriting(path).close();
  const db = new Database(path);
  try {
    db.transaction(() => {
      db.prepare(`INSERT INTO scans (scan_id, host, started_at, finished_at, status, process_count)
        VALUES (1, 'fixture-host', ?, ?, 'complete', ?)`).run(BASE_TIME, BASE_TIME + 1000, fixture.processes.length);
      const cols = ['scan_id', ...PROCESS_SNAPSHOT_COLUMNS];
      const insert = db.prepare(`INSERT INTO process_snapshots (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`);
      fixture.processes.forEach((p, i) => insert.run({ scan_id: 1, ...fixtureProcess(p, i) }));
      const insertLc = db.prepare(`INSERT INTO process_lifecycle (scan_id, ${LIFECYCLE_COLUMNS.join(', ')})
        VALUES (1, ${LIFECYCLE_COLUMNS.map((c) => '@' + c).join(', ')})`);
      fixture.lifecycle.forEach((l, i) => insertLc.run(fixtureLifecycle(l, i)));
      const insertExec = db.prepare(`INSERT INTO process_exec (${EXEC_COLUMNS.join(', ')}) VALUES (${EXEC_COLUMNS.map((c) => '@' + c).join(', ')})`);
      fixture.process_exec.forEach((e, i) => insertExec.run(fixtureExec(e, i)));
      const insertExit = db.prepare(`INSERT INTO process_exit (${EXIT_COLUMNS.join(', ')}) VALUES (${EXIT_COLUMNS.map((c) => '@' + c).join(', ')})`);
      fixture.process_exit.forEach((e, i) => insertExit.run(fixtureExit(e, i)));
      const insertConn = db.prepare(`INSERT INTO network_connections (${CONN_COLUMNS.join(', ')}) VALUES (${CONN_COLUMNS.map((c) => '@' + c).join(', ')})`);
      fixture.network_connections.forEach((e, i) => insertConn.run(fixtureConnection(e, i)));
      const insertSec = db.prepare(`INSERT INTO process_security_events (${SEC_COLUMNS.join(', ')}) VALUES (${SEC_COLUMNS.map((c) => '@' + c).join(', ')})`);
      fixture.process_security_events.forEach((e, i) => insertSec.run(fixtureSecurity(e, i)));
      writeNetworkFixtures(db, fixture);
    })();
  } finally {
    db.close();
  }
}

/** Expected findings match distinct rows by the columns they name; the counts must agree. */
export function compareFindings(expected: readonly Record<string, unknown>[], rows: readonly Record<string, unknown>[]): string | null {
  if (expected.length !== rows.length) {
    return `expected ${expected.length} finding(s), got ${rows.length}`;
  }
  const unused = [...rows];
  for (const want of expected) {
    const i = unused.findIndex((row) => Object.entries(want).every(([k, v]) => String(row[k]) === String(v)));
    if (i < 0) return `no row matches ${JSON.stringify(want)}`;
    unused.splice(i, 1);
  }
  return null;
}

export async function runFixtures(rules: readonly Rule[], options: { timeoutMs: number }): Promise<FixtureResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'daemoneye-fixtures-'));
  const sandbox = new RuleSandbox(join(dir, 'none.db'));
  const results: FixtureResult[] = [];
  let n = 0;
  try {
    for (const rule of rules) {
      if (rule.fixtures.length === 0) {
        results.push({ ruleId: rule.id, fixture: '(none)', passed: false, message: 'the rule has no fixtures', rows: [] });
        continue;
      }
      for (const fixture of rule.fixtures) {
        const path = join(dir, `fixture-${++n}.db`);
        let rows: Record<string, unknown>[] = [];
        let message: string | null;
        try {
          writeFixtureStore(path, fixture);
          await sandbox.useDatabase(path);
          rows = (await sandbox.run(rule.sql, { timeoutMs: options.timeoutMs, cursor: CURSOR_START, maxRows: 10_000 })).rows;
          message = compareFindings(fixture.expect, rows);
        } catch (e) {
          message = (e as Error).message;
        }
        results.push({ ruleId: rule.id, fixture: fixture.name, passed: message === null, message: message ?? 'ok', rows });
        rmSync(path, { force: true });
      }
    }
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
