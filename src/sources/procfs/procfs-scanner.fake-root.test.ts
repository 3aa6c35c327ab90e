// The scanner against a procfs built in a temp directory: exact expected rows, and the paths a live
// system rarely shows on demand (a process vanishing mid-read, malformed files, zombies).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDaemonEyeError } from '../../errors/catalogue.ts';
import { PROCESS_SNAPSHOT_COLUMNS } from '../../normalize/process-snapshot.ts';
import { ProcfsScanner } from './procfs-scanner.linux.ts';

const ID = 'c0ffee'.padEnd(64, '0');
const BTIME = 1_700_000_000;
const dir = mkdtempSync(join(tmpdir(), 'de-fake-proc-'));
const root = join(dir, 'proc');
const exe = join(dir, 'evil-binary');
const passwd = join(dir, 'passwd');

/** A stat line with the kernel's 52 fields; `fields` overrides by index after ") " (state = 0). */
function statLine(pid: number, comm: string, fields: Record<number, string | number>): string {
  const f: (string | number)[] = new Array(50).fill(0);
  f[0] = 'S';
  f[5] = -1;
  f[17] = 1;
  f[45] = 140000; f[46] = 140100; f[47] = 140100; f[48] = 140500; f[25] = 139000;
  for (const [i, v] of Object.entries(fields)) f[Number(i)] = v;
  return `${pid} (${comm}) ${f.join(' ')}\n`;
}

function proc(pid: number | string, files: Record<string, string>, links: Record<string, string> = {}): void {
  const p = join(root, String(pid));
  mkdirSync(join(p, 'ns'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(p, name), text);
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(p, name));
}

const STATUS = 'Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\nThreads:\t2\n';
const NS = { 'ns/pid': 'pid:[4026531836]', 'ns/mnt': 'mnt:[4026531840]', 'ns/net': 'net:[4026531992]' };

before(() => {
  mkdirSync(root);
  writeFileSync(join(root, 'stat'), `cpu  1 2 3 4\nbtime ${BTIME}\nprocesses 9\n`);
  writeFileSync(join(root, 'uptime'), '1000.00 1900.00\n');
  writeFileSync(join(root, 'meminfo'), 'MemTotal: 1 kB\n');
  writeFileSync(exe, 'payload');
  writeFileSync(passwd, 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  // A setuid process (real 1000, effective 0) with a hostile comm, in a docker container, on pts/1.
  proc(100, {
    stat: statLine(100, 'evil) (x', { 1: 1, 2: 100, 3: 100, 4: 34817, 6: 4194560, 11: 300, 12: 200, 17: 2, 19: 50000, 21: 256 }),
    status: STATUS,
    cmdline: '/tmp/evil\0--flag\0a b\0',
    environ: 'PATH=/bin\0SECRET_TOKEN=hunter2\0LD_PRELOAD=/tmp/x.so\0',
    cgroup: `0::/system.slice/docker-${ID}.scope\n`,
  }, { exe, cwd: '/tmp/work', ...NS });
  proc(200, { stat: statLine(200, 'gone', {}) }); // exited after stat was read
  proc(300, { stat: '300 (broken S 1 2 3\n', status: STATUS, cmdline: '' });
  proc(400, {}); // exited before anything was read
  proc(500, { stat: statLine(500, 'defunct', { 0: 'Z', 1: 100, 19: 60000 }), status: STATUS, cmdline: '' });
  proc(600, { stat: statLine(600, 'kworker/0:1', { 1: 2, 6: 0x00208040, 19: 30 }), status: STATUS.replace(/1000/g, '0'), cmdline: '' }, NS);
  proc(700, {
    stat: statLine(700, 'odd', { 0: 'Q', 1: 1, 19: 70000 }), status: 'garbage', cmdline: 'odd\0',
    environ: '', cgroup: 'not a cgroup line\n',
  }, { exe, cwd: '/', 'ns/pid': 'pid:[x]', 'ns/mnt': 'mnt:[4026531840]', 'ns/net': 'net:[4026531992]' });
  symlinkSync('100', join(root, 'self'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const options = { root, passwdPath: passwd, clockTicks: 100, pageSize: 4096 };

test('rows have exactly the ProcessSnapshot columns and the expected values', async () => {
  const scanner = new ProcfsScanner(options);
  const before = Date.now();
  const scan = await scanner.scan();
  await scanner.stop();
  assert.deepEqual(scan.snapshots.map((r) => r.pid).sort((a, b) => a - b), [100, 500, 600, 700]);
  for (const row of scan.snapshots) assert.deepEqual(Object.keys(row), [...PROCESS_SNAPSHOT_COLUMNS]);
  const row = scan.snapshots.find((r) => r.pid === 100)!;
  assert.ok(row.collection_time >= before && row.collection_time <= Date.now());
  assert.deepEqual({ ...row, collection_time: 0 }, {
    pid: 100, ppid: 1, name: 'evil) (x', executable_path: exe, command_line: '/tmp/evil --flag a b',
    argv: '["/tmp/evil","--flag","a b"]', start_time: BTIME * 1000 + 500_000, start_ticks: 50000,
    cpu_usage: 1, memory_usage: 256 * 4096, status: 'sleeping',
    executable_hash: createHash('sha256').update('payload').digest('hex'), hash_algorithm: 'sha256',
    hash_status: 'ok', user_id: 1000, group_id: 1000, effective_user_id: 0, effective_group_id: 1000,
    user_name: 'alice', accessible: 1, file_exists: 1, cwd: '/tmp/work', tty: 'pts/1', session_id: 100,
    pgid: 100, threads: 2, pid_ns: 4026531836, mnt_ns: 4026531840, net_ns: 4026531992, container_id: ID,
    environment: '{"PATH":"/bin","LD_PRELOAD":"/tmp/x.so"}', is_kernel_thread: 0, collection_time: 0,
  });
  assert.ok(!JSON.stringify(scan).includes('hunter2'), 'a variable off the allow-list is never kept');
});

test('vanished and malformed processes are counted, not thrown', async () => {
  const scanner = new ProcfsScanner(options);
  const scan = await scanner.scan();
  assert.equal(scan.vanished, 2); // 200 (status gone) and 400 (stat gone)
  assert.equal(scan.inaccessible, 0);
  const c = scanner.counters();
  assert.equal(c['decode_errors.stat_malformed'], 1); // 300
  assert.equal(c['decode_errors.status_malformed'], 1); // 700
  assert.equal(c['decode_errors.state_unknown'], 1);
  assert.equal(c['decode_errors.cgroup_malformed'], 1);
  assert.equal(c['decode_errors.ns_malformed'], 1);
  assert.equal(scanner.health().state, 'degraded');
  assert.match(scanner.health().reason ?? '', /decode/);
  const odd = scan.snapshots.find((r) => r.pid === 700)!;
  assert.equal(odd.status, 'unknown');
  assert.equal(odd.user_id, null);
  assert.equal(odd.pid_ns, null);
  assert.equal(odd.environment, '{}');
  await scanner.stop();
});

test('zombies and kernel threads', async () => {
  const scanner = new ProcfsScanner(options);
  const scan = await scanner.scan();
  await scanner.stop();
  const zombie = scan.snapshots.find((r) => r.pid === 500)!;
  assert.equal(zombie.status, 'zombie');
  assert.equal(zombie.accessible, 1);
  assert.equal(zombie.executable_path, null);
  assert.equal(zombie.hash_status, 'none');
  assert.equal(zombie.pid_ns, null);
  const kthread = scan.snapshots.find((r) => r.pid === 600)!;
  assert.equal(kthread.is_kernel_thread, 1);
  assert.equal(kthread.hash_status, 'none');
  assert.equal(kthread.command_line, '');
  assert.equal(kthread.environment, null);
  assert.equal(kthread.user_name, 'root');
  assert.equal(kthread.pid_ns, 4026531836);
});

test('a second scan hits the hash cache and reads no executable bytes', async () => {
  const scanner = new ProcfsScanner(options);
  await scanner.scan();
  const first = scanner.counters();
  const scan = await scanner.scan();
  const second = scanner.counters();
  await scanner.stop();
  assert.equal(first.bytes_hashed, 'payload'.length);
  assert.equal(second.bytes_hashed, first.bytes_hashed);
  assert.equal(second.hash_cache_hits! - first.hash_cache_hits!, 2); // pids 100 and 700
  assert.equal(scan.snapshots.find((r) => r.pid === 100)!.cpu_usage, 0); // no new CPU ticks
});

test('no procfs: DE_SOURCE_UNAVAILABLE and health says why', async () => {
  const scanner = new ProcfsScanner({ root: join(dir, 'nowhere') });
  await assert.rejects(scanner.scan(), (e) => isDaemonEyeError(e, 'DE_SOURCE_UNAVAILABLE'));
  assert.equal(scanner.health().state, 'unavailable');
  assert.match(scanner.health().reason ?? '', /nowhere/);
  await scanner.stop();
  const stopped = new ProcfsScanner(options);
  await stopped.stop();
  await assert.rejects(stopped.scan(), (e) => isDaemonEyeError(e, 'DE_SOURCE_UNAVAILABLE'));
});
