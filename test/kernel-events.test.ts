// The kernel layer end to end, as a user runs it: `daemoneye run` as root with
// enterprise.kernel_monitoring.enable_ebpf starts the privileged collector, which loads the eBPF
// programs; 1,000 short-lived processes must each appear in process_exec and process_exit with the
// right pid, ppid, filename, argv and exit code. Needs root and the built sensor (scripts/setup.sh).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { ADDON_PATH } from '../src/sources/ebpf/native-addon.ts';
import { cliAsync } from './cli-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'de-kernel-'));
let agent: ChildProcess | null = null;
const agents: ChildProcess[] = [];
after(() => {
  // Every agent started, not only the last: a failed test must not leave one running (and this file hanging).
  for (const a of agents) a.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const skip = process.getuid?.() !== 0 ? 'needs root to load eBPF programs'
  : !existsSync(ADDON_PATH) ? `the eBPF sensor is not built (${ADDON_PATH}): run scripts/setup.sh`
  : !existsSync('/sys/kernel/btf/vmlinux') ? 'the kernel has no BTF' : false;

/** A kernel-event rule: it runs on every batch, so it sees processes no scan would. */
const MARKER_RULE = `id: TEST-KERNEL-1
name: marker process executed
version: 1
description: fires on the exec of a process carrying a marker argument
severity: high
attack: [T1059.004]
kind: event
sql: |
  SELECT pid, ppid, filename AS executable_path, command_line, time AS start_time, 'marker exec ' || command_line AS reason
  FROM new_process_exec WHERE command_line LIKE '%de-5ms-marker%'
`;

test('1,000 short-lived processes, a 5 ms process caught by a rule, and a loopback TCP connection, end to end', { skip, timeout: 120_000 }, async (t) => {
  const dataDir = join(work, 'data');
  const rules = join(work, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'marker.yaml'), MARKER_RULE);
  agent = cliAsync(['--data-dir', dataDir, 'run', '--interval', '30'], {
    DAEMONEYE_ENTERPRISE__KERNEL_MONITORING__ENABLE_EBPF: 'true', DAEMONEYE_DETECTION__RULE_DIRS: `[${rules}]`,
    DAEMONEYE_ALERTING__STDOUT__ENABLED: 'false',
  });
  agents.push(agent);
  let log = '';
  agent.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  for (let i = 0; i < 400 && !log.includes('kernel events active'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(log, /kernel events active layer="ebpf"/);
  assert.match(log, /hook attached program="handle_exec"/);

  // One shell forks 1,000 children that each exec /bin/sh with a distinct argv and exit code.
  const loop = spawn('bash', ['-c', 'for i in $(seq 1 1000); do /bin/sh -c "exit $((i % 200))" "de-test-$i"; done'], { stdio: 'ignore' });
  await new Promise((r) => loop.on('exit', r));
  const shell = loop.pid!;

  const open = () => new Database(join(dataDir, 'daemoneye.db'), { readonly: true });
  let execs: { pid: number; ppid: number; filename: string; argv: string; ancestry: string }[] = [];
  for (let i = 0; i < 100 && execs.length < 1000; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const db = open();
    execs = db.prepare(`SELECT pid, ppid, filename, argv, ancestry FROM process_exec WHERE ppid = ? AND filename = '/bin/sh'`).all(shell) as typeof execs;
    db.close();
  }
  assert.equal(execs.length, 1000, `${execs.length} of 1,000 execs stored`);
  const byArg = new Map(execs.map((e) => [(JSON.parse(e.argv) as string[])[3]!, e]));
  for (let i = 1; i <= 1000; i++) {
    const e = byArg.get(`de-test-${i}`);
    assert.ok(e, `exec ${i}`);
    assert.deepEqual(JSON.parse(e.argv), ['/bin/sh', '-c', `exit ${i % 200}`, `de-test-${i}`]);
  }
  // Each exec carries its ancestry from the live process tree: the bash loop, then this test's node.
  const chain = JSON.parse(execs[999]!.ancestry) as { pid: number; name: string }[];
  assert.equal(chain[0]!.pid, shell);
  assert.equal(chain[0]!.name, 'bash');
  assert.equal(chain[1]!.pid, process.pid);
  const db = open();
  // Forks followed at once by an exec are folded into the exec row (which names the parent): none of
  // the loop's 1,000 children has a fork row of its own.
  assert.equal((db.prepare('SELECT count(*) AS n FROM process_fork WHERE parent_pid = ?').get(shell) as { n: number }).n, 0,
    'forks followed by an exec are not stored');
  // Each exec's own exit is the first exit of that pid after it (a pid can be reused later).
  const exits = db.prepare(`SELECT e.argv, (SELECT x.exit_code FROM process_exit x WHERE x.pid = e.pid AND x.ktime_ns > e.ktime_ns
      ORDER BY x.ktime_ns LIMIT 1) AS exit_code
    FROM process_exec e WHERE e.ppid = ? AND e.filename = '/bin/sh'`).all(shell) as { exit_code: number | null; argv: string }[];
  db.close();
  assert.equal(exits.length, 1000);
  for (const x of exits) {
    const n = Number((JSON.parse(x.argv) as string[])[3]!.slice('de-test-'.length));
    assert.equal(x.exit_code, n % 200);
  }

  // A fork that never execs (a subshell) keeps its row: nothing else records that process.
  const sub = spawn('bash', ['-c', '(exit 3); true'], { stdio: 'ignore' });
  await new Promise((r) => sub.on('exit', r));
  let subFork: { child_pid: number; exit_code: number } | undefined;
  for (let i = 0; i < 100 && subFork === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const d = open();
    subFork = d.prepare(`SELECT f.child_pid, x.exit_code FROM process_fork f JOIN process_exit x ON x.pid = f.child_pid AND x.ktime_ns > f.ktime_ns
      WHERE f.parent_pid = ?`).get(sub.pid) as typeof subFork;
    d.close();
  }
  assert.equal(subFork?.exit_code, 3, 'the subshell: its fork row and its exit code');

  // A process that lives about 5 ms (sh exits at once) is still caught by the kernel-event rule.
  const started = Date.now();
  const brief = spawn('/bin/sh', ['-c', 'exit 0', 'de-5ms-marker'], { stdio: 'ignore' });
  await new Promise((r) => brief.on('exit', r));
  const lived = Date.now() - started;
  let alert: { pid: number; summary: string } | undefined;
  for (let i = 0; i < 200 && alert === undefined; i++) {
    await new Promise((r) => setTimeout(r, 25));
    const d = open();
    alert = d.prepare(`SELECT pid, summary FROM alerts WHERE rule_id = 'TEST-KERNEL-1'`).get() as typeof alert;
    d.close();
  }
  assert.ok(alert, 'the kernel-event rule raised an alert');
  assert.equal(alert.pid, brief.pid);
  assert.match(alert.summary, /marker exec \/bin\/sh -c exit 0 de-5ms-marker/);
  t.diagnostic(`process lived ${lived} ms (spawn to exit as seen by Node); alert stored ${Date.now() - started} ms after spawn`);

  // A connect to a listener on loopback appears with both ends and the pid.
  const server = createServer((c) => c.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  await new Promise((r) => client.on('close', r));
  server.close();
  let conns: { event: string; pid: number; local_address: string; local_port: number; remote_address: string; remote_port: number }[] = [];
  for (let i = 0; i < 100 && conns.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const d = open();
    conns = d.prepare(`SELECT event, pid, local_address, local_port, remote_address, remote_port FROM network_connections
      WHERE local_port = ? OR remote_port = ? ORDER BY id`).all(port, port) as typeof conns;
    d.close();
  }
  const byEvent = new Map(conns.map((c) => [c.event, c]));
  assert.deepEqual({ ...byEvent.get('listen'), remote_address: undefined, remote_port: undefined },
    { event: 'listen', pid: process.pid, local_address: '127.0.0.1', local_port: port, remote_address: undefined, remote_port: undefined });
  const out = byEvent.get('connect')!;
  assert.equal(out.pid, process.pid);
  assert.equal(out.remote_address, '127.0.0.1');
  assert.equal(out.remote_port, port);
  assert.ok(out.local_port > 0);
  const inbound = byEvent.get('accept')!;
  assert.equal(inbound.local_port, port);
  assert.equal(inbound.remote_port, out.local_port, 'the accepted connection is the one this test opened');
  // The kernel completes accepts outside any process; the store credits them to the listener.
  assert.equal(inbound.pid, process.pid, 'accept attributed to the listening process');
  const d2 = open();
  assert.equal((d2.prepare(`SELECT attribution FROM network_connections WHERE event = 'accept' AND local_port = ?`).get(port) as { attribution: string }).attribution, 'listener');
  // Execs carry the working directory and the process start the kernel reports.
  const cwdRow = d2.prepare(`SELECT cwd, process_start_time, time FROM process_exec WHERE ppid = ? LIMIT 1`).get(shell) as { cwd: string; process_start_time: number; time: number };
  d2.close();
  assert.equal(cwdRow.cwd, process.cwd());
  assert.ok(cwdRow.process_start_time <= cwdRow.time && cwdRow.time - cwdRow.process_start_time < 5000, 'the process started shortly before its exec');

  // Fileless-execution groundwork: memfd_create is recorded with the caller and the memfd's name.
  const py = spawn('python3', ['-c', "import os; os.memfd_create('de-e2e-memfd')"], { stdio: 'ignore' });
  await new Promise((r) => py.on('exit', r));
  let memfd: { pid: number; op: string; name: string } | undefined;
  for (let i = 0; i < 100 && memfd === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const d = open();
    memfd = d.prepare(`SELECT pid, op, name FROM process_security_events WHERE name = 'de-e2e-memfd'`).get() as typeof memfd;
    d.close();
  }
  assert.deepEqual(memfd, { pid: py.pid, op: 'memfd_create', name: 'de-e2e-memfd' });

  const exited = new Promise<number | null>((r) => agent!.on('exit', (code) => r(code)));
  agent.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(log, /collector stopped/);
});

test('without eBPF the agent falls back to the netlink process connector, says it is degraded, and still stores exec and exit', { skip, timeout: 60_000 }, async () => {
  const dataDir = join(work, 'data-netlink');
  const fallback = cliAsync(['--data-dir', dataDir, 'run', '--interval', '30'], {
    DAEMONEYE_ENTERPRISE__KERNEL_MONITORING__ENABLE_EBPF: 'true', DAEMONEYE_ENTERPRISE__KERNEL_MONITORING__SENSOR: 'netlink',
    DAEMONEYE_ALERTING__STDOUT__ENABLED: 'false',
  });
  agent = fallback;
  agents.push(fallback);
  let log = '';
  fallback.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  for (let i = 0; i < 400 && !log.includes('kernel events active'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(log, /kernel events active, degraded layer="netlink"/);

  // 20 sleeps that live a second (so /proc is surely read), and 50 shells that exit at once with codes 1-50.
  const loop = spawn('bash', ['-c', 'for i in $(seq 10 29); do /bin/sleep 1.$i & done; for i in $(seq 1 50); do /bin/sh -c "exit $i"; done; wait'], { stdio: 'ignore' });
  await new Promise((r) => loop.on('exit', r));
  const open = () => new Database(join(dataDir, 'daemoneye.db'), { readonly: true });
  let sleeps: { argv: string; degraded: number }[] = [];
  for (let i = 0; i < 100 && sleeps.length < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const d = open();
    sleeps = d.prepare(`SELECT argv, degraded FROM process_exec WHERE ppid = ? AND filename = '/usr/bin/sleep' AND argv LIKE '["/bin/sleep","1.%'`).all(loop.pid) as typeof sleeps;
    d.close();
  }
  assert.equal(sleeps.length, 20, 'every sleep exec stored with its argv and parent');
  assert.ok(sleeps.every((r) => r.degraded === 1), 'and marked degraded');
  const d = open();
  // The shells may be gone before /proc is read; their forks and exits still carry the pids and codes.
  const codes = d.prepare(`SELECT x.exit_code FROM process_fork f JOIN process_exit x ON x.pid = f.child_pid AND x.ktime_ns > f.ktime_ns
    WHERE f.parent_pid = ? AND x.exit_code > 0 ORDER BY x.exit_code`).all(loop.pid) as { exit_code: number }[];
  d.close();
  assert.deepEqual(codes.map((c) => c.exit_code), Array.from({ length: 50 }, (_, i) => i + 1), 'every sh exit code, even of processes gone before /proc was read');
  const exited = new Promise<number | null>((r) => fallback.on('exit', (code) => r(code)));
  fallback.kill('SIGTERM');
  assert.equal(await exited, 0);
});
