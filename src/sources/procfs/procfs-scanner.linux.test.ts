// The scanner against the real /proc: it must find this test process and the children it starts,
// with the right argv, parent, executable, hash and environment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProcessSnapshot } from '../../normalize/process-snapshot.ts';
import { ProcfsScanner } from './procfs-scanner.linux.ts';

const linux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'de-procfs-'));
const children: ChildProcess[] = [];
const SLEEP = realpathSync('/bin/sleep');
const dropperPath = join(dir, 'de-dropper');
let sleeper: ChildProcess;
let dropper: ChildProcess;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function start(file: string, env: NodeJS.ProcessEnv = { PATH: process.env.PATH }): ChildProcess {
  // spawn() returns once the child has exec'd, so /proc already shows the new program.
  const child = spawn(file, ['30'], { env, stdio: 'ignore' });
  children.push(child);
  return child;
}

function row(scan: { snapshots: readonly ProcessSnapshot[] }, pid: number | undefined): ProcessSnapshot {
  const found = scan.snapshots.find((r) => r.pid === pid);
  assert.ok(found, `pid ${pid} not in the scan`);
  return found;
}

before(() => {
  if (!linux) return;
  sleeper = start(SLEEP, { PATH: process.env.PATH, PYTHONPATH: '/opt/de-allowed', SECRET_TOKEN: 'x-secret-value' });
  copyFileSync(SLEEP, dropperPath);
  dropper = start(dropperPath);
  unlinkSync(dropperPath); // the classic: run, then delete yourself
});
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('finds this test process with its parent, argv, executable, hash and ids', { skip: !linux }, async () => {
  const scanner = new ProcfsScanner();
  const first = await scanner.scan();
  // node is larger than the inline limit: hashed in the background, pending until then.
  assert.equal(row(first, process.pid).hash_status, 'pending');
  await scanner.hashingIdle();
  const scan = await scanner.scan();
  await scanner.stop();
  const self = row(scan, process.pid);
  assert.equal(self.ppid, process.ppid);
  const argv = JSON.parse(self.argv) as string[];
  assert.equal(argv[0], process.argv0);
  assert.deepEqual(argv.slice(1, 1 + process.execArgv.length), process.execArgv);
  assert.equal(realpathSync(argv.at(-1)!), realpathSync(process.argv[1]!));
  assert.equal(self.command_line, argv.join(' '));
  assert.equal(self.executable_path, realpathSync(process.execPath));
  assert.equal(self.file_exists, 1);
  assert.equal(self.hash_status, 'ok');
  assert.equal(self.hash_algorithm, 'sha256');
  assert.equal(self.executable_hash, await sha256File(process.execPath));
  assert.equal(self.user_id, process.getuid!());
  assert.equal(self.group_id, process.getgid!());
  assert.equal(self.effective_user_id, process.geteuid!());
  assert.equal(self.accessible, 1);
  assert.equal(self.is_kernel_thread, 0);
  assert.equal(self.cwd, process.cwd());
  assert.equal(self.pid_ns, Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]));
  assert.ok(Math.abs(self.start_time - performance.timeOrigin) < 1500, 'start time within btime rounding');
  assert.ok(self.memory_usage > 1024 * 1024);
  assert.ok(['running', 'sleeping'].includes(self.status));
  assert.ok(scan.snapshots.some((r) => r.is_kernel_thread === 1) || !readFileSync('/proc/2/stat', 'utf8').includes('kthreadd'));
});

test('finds a spawned child with its argv, parent and executable hash', { skip: !linux }, async () => {
  const scanner = new ProcfsScanner();
  const scan = await scanner.scan();
  await scanner.stop();
  const child = row(scan, sleeper.pid);
  assert.equal(child.ppid, process.pid);
  assert.equal(child.argv, JSON.stringify([SLEEP, '30']));
  assert.equal(child.name, 'sleep');
  assert.equal(child.executable_path, SLEEP);
  assert.equal(child.executable_hash, await sha256File(SLEEP));
  assert.equal(child.file_exists, 1);
  assert.ok(child.start_time <= Date.now() && child.start_time > Date.now() - 60_000);
});

test('environment keeps allow-listed variables only', { skip: !linux }, async () => {
  const scanner = new ProcfsScanner();
  const scan = await scanner.scan();
  await scanner.stop();
  const env = JSON.parse(row(scan, sleeper.pid).environment!) as Record<string, string>;
  assert.equal(env.PYTHONPATH, '/opt/de-allowed');
  assert.equal(env.PATH, process.env.PATH);
  assert.equal(env.SECRET_TOKEN, undefined);
  assert.ok(!JSON.stringify(scan).includes('x-secret-value'));
});

test('a deleted executable: file_exists 0, path without the suffix, still hashed', { skip: !linux }, async () => {
  const scanner = new ProcfsScanner();
  const scan = await scanner.scan();
  await scanner.stop();
  const r = row(scan, dropper.pid);
  assert.equal(r.file_exists, 0);
  assert.equal(r.executable_path, realpathSync(dir) + '/de-dropper');
  assert.equal(r.hash_status, 'ok');
  assert.equal(r.executable_hash, await sha256File(SLEEP)); // a copy of sleep: same bytes
});

test('a second scan re-hashes nothing (real processes, seen through a root of their own)', { skip: !linux }, async () => {
  // Other processes on the host come and go between scans; a root holding only our children (links
  // to their real /proc directories) makes the byte count exact.
  const root = join(dir, 'proc');
  mkdirSync(root);
  for (const name of ['stat', 'uptime']) symlinkSync(`/proc/${name}`, join(root, name));
  for (const child of [sleeper, dropper]) symlinkSync(`/proc/${child.pid}`, join(root, String(child.pid)));
  const scanner = new ProcfsScanner({ root });
  await scanner.scan();
  const first = scanner.counters();
  const scan = await scanner.scan();
  const second = scanner.counters();
  await scanner.stop();
  assert.equal(scan.snapshots.length, 2);
  assert.equal(first.bytes_hashed, 2 * readFileSync(SLEEP).length); // two files (inodes), same bytes
  assert.equal(second.bytes_hashed, first.bytes_hashed);
  assert.equal(second.hash_cache_hits! - first.hash_cache_hits!, 2);

  // And on the whole of /proc, steady state is served from the cache.
  const whole = new ProcfsScanner();
  await whole.scan();
  const before = whole.counters();
  await whole.scan();
  assert.ok(whole.counters().hash_cache_hits! - before.hash_cache_hits! > 0);
  await whole.stop();
});

const asRoot = linux && process.getuid?.() === 0;
test('unprivileged: rows of other users are kept, marked inaccessible', { skip: !asRoot }, () => {
  const url = pathToFileURL(join(import.meta.dirname, 'procfs-scanner.linux.ts')).href;
  const script = `import { ProcfsScanner } from ${JSON.stringify(url)};
    const s = new ProcfsScanner(); const scan = await s.scan(); await s.stop();
    console.log(JSON.stringify({ row: scan.snapshots.find((r) => r.pid === ${process.pid}), inaccessible: scan.inaccessible, health: s.health() }));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    uid: 65534, gid: 65534, env: { PATH: process.env.PATH, HOME: '/tmp' }, encoding: 'utf8', timeout: 30_000,
  });
  assert.equal(out.status, 0, out.stderr);
  const { row: r, inaccessible, health } = JSON.parse(out.stdout) as { row: ProcessSnapshot; inaccessible: number; health: { state: string } };
  assert.equal(r.accessible, 0);
  assert.equal(r.executable_path, null);
  assert.equal(r.hash_status, 'unreadable');
  assert.equal(r.environment, null);
  assert.equal(r.user_id, 0); // status stays world-readable
  assert.equal(r.ppid, process.ppid);
  assert.ok(inaccessible > 0);
  assert.equal(health.state, 'degraded');
});
