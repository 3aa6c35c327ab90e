// Real trigger: the kernel runs the processes and the sensor must report every exec and exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { decodeBatch, type ExecEvent, type ExitEvent } from './records.ts';
import { ADDON_PATH, loadBpfAddon } from './native-addon.ts';
import { createBootClock } from './boot-clock.ts';

const N = 200;

function run(file: string, args: string[], cwd?: string, uid?: number): Promise<{ pid: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { stdio: 'ignore', ...(cwd === undefined ? {} : { cwd }), ...(uid === undefined ? {} : { uid, gid: uid }) });
    c.once('error', reject);
    c.once('exit', (code) => resolve({ pid: c.pid ?? -1, code }));
  });
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  if (!existsSync(ADDON_PATH)) return `addon not built (${ADDON_PATH}); run scripts/build-native.sh`;
  return undefined;
}

test(`every exec and exit of ${N} /bin/true and ${N} sh -c 'exit 7' is reported`, async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const addon = loadBpfAddon();
  const execs = new Map<number, ExecEvent>();
  const exits = new Map<number, ExitEvent>();
  const errors: Record<string, number> = {};
  const opened = addon.open({ batchMs: 10, selfPid: process.pid }, (batch) => {
    const r = decodeBatch(batch);
    for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
    for (const e of r.events) {
      if (e.kind === 'exec') execs.set(e.pid, e);
      else if (e.kind === 'exit') exits.set(e.pid, e);
    }
  });
  t.after(() => addon.close());
  // The process hooks (tp_btf) must attach; the tracefs-based security hooks are covered in
  // security-sensor.linux.test.ts (module_load has no tracepoint on kernels without modules).
  for (const name of ['handle_exec', 'handle_fork', 'handle_exit']) {
    assert.ok(opened.programs[name]?.attached, `${name}: ${opened.programs[name]?.error}`);
  }
  const clock = createBootClock(addon.boottimeNs());
  const started = Date.now();

  const jobs: Promise<{ pid: number; code: number | null; file: string; argv: string[] }>[] = [];
  for (let i = 0; i < N; i++) {
    const tArgs = [`de-true-${i}`, 'x y'];
    jobs.push(run('/bin/true', tArgs).then((r) => ({ ...r, file: '/bin/true', argv: ['/bin/true', ...tArgs] })));
    const sArgs = ['-c', 'exit 7', `de-sh-${i}`];
    jobs.push(run('/bin/sh', sArgs).then((r) => ({ ...r, file: '/bin/sh', argv: ['/bin/sh', ...sArgs] })));
  }
  const children = await Promise.all(jobs);

  const deadline = Date.now() + 5000;
  const allSeen = () => children.every((c) => execs.has(c.pid) && exits.has(c.pid));
  while (!allSeen() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  const missing = children.filter((c) => !execs.has(c.pid) || !exits.has(c.pid));
  assert.equal(missing.length, 0, `missing ${missing.length}: ${JSON.stringify(missing.slice(0, 3))}; stats ${JSON.stringify(addon.stats())}`);
  for (const c of children) {
    const e = execs.get(c.pid)!;
    assert.equal(e.filename, c.file);
    assert.deepEqual(e.argv, c.argv);
    assert.equal(e.ppid, process.pid, 'direct children have this process as parent');
    assert.equal(e.argsTruncated, false);
    const wall = clock.toEpochMs(e.ktimeNs);
    assert.ok(wall >= started - 1000 && wall <= Date.now() + 1000, `exec time ${wall} outside the run`);
    const x = exits.get(c.pid)!;
    assert.equal(x.exitCode, c.code);
    assert.equal(x.signal, 0);
  }
  assert.deepEqual(errors, {});
  const s = addon.stats();
  assert.equal(s.kernelDrops, 0);
  assert.equal(s.userDrops, 0);
});

test('argv longer than maxArgsBytes is cut and flagged', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const addon = loadBpfAddon();
  const execs = new Map<number, ExecEvent>();
  addon.open({ maxArgsBytes: 64 }, (batch) => {
    for (const e of decodeBatch(batch).events) if (e.kind === 'exec') execs.set(e.pid, e);
  });
  t.after(() => addon.close());
  const { pid } = await run('/bin/true', ['a'.repeat(200)]);
  const deadline = Date.now() + 3000;
  while (!execs.has(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const e = execs.get(pid);
  assert.ok(e, 'exec seen');
  assert.equal(e.argsTruncated, true);
  // 64 bytes: "/bin/true\0" then the first 54 bytes of the long argument, with no closing NUL.
  assert.deepEqual(e.argv, ['/bin/true', 'a'.repeat(64 - '/bin/true\0'.length)]);
});

async function execsWhile(open: (onBatch: (b: Buffer) => void) => void, action: () => Promise<number[]>, settleMs = 300): Promise<{ execs: Map<number, ExecEvent>; pids: number[] }> {
  const execs = new Map<number, ExecEvent>();
  open((batch) => {
    for (const e of decodeBatch(batch).events) if (e.kind === 'exec') execs.set(e.pid, e);
  });
  const pids = await action();
  await new Promise((r) => setTimeout(r, settleMs));
  return { execs, pids };
}

test('exec records carry the working directory (across a mount) and the start time /proc reports', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const { mkdtempSync, mkdirSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { execFileSync } = await import('node:child_process');
  const base = mkdtempSync(join(tmpdir(), 'de-cwd-'));
  const deep = join(base, 'a b', 'c');
  mkdirSync(deep, { recursive: true });
  // A tmpfs mounted inside: the walk must cross from the mount's root to its mount point.
  const mnt = join(base, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', 'detest', mnt]);
    mounted = true;
    mkdirSync(join(mnt, 'inner'));
  } catch { /* no mount permission: the plain-directory half still runs */ }
  t.after(() => {
    if (mounted) execFileSync('umount', [mnt]);
    rmSync(base, { recursive: true, force: true });
  });
  const addon = loadBpfAddon();
  t.after(() => addon.close());
  const sleeper = spawn('/bin/sleep', ['3'], { cwd: deep, stdio: 'ignore' });
  t.after(() => sleeper.kill());
  const { execs, pids } = await execsWhile((cb) => addon.open({ batchMs: 5 }, cb), async () => {
    const list = [(await run('/bin/true', ['cwd-test'], deep)).pid];
    if (mounted) list.push((await run('/bin/true', ['cwd-mnt'], join(mnt, 'inner'))).pid);
    return list;
  });
  assert.equal(execs.get(pids[0]!)?.cwd, deep);
  if (mounted) assert.equal(execs.get(pids[1]!)?.cwd, join(mnt, 'inner'));
  // Start time: /proc/PID/stat field 22 is start in clock ticks since boot (same boot clock).
  const { readFileSync } = await import('node:fs');
  const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
  const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const hz = 100; // USER_HZ on Linux
  const e2 = await execsWhile((cb) => { addon.close(); addon.open({ batchMs: 5 }, cb); }, async () => [(await run('/bin/true', ['start-time'])).pid]);
  const e = e2.execs.get(e2.pids[0]!);
  assert.ok(e?.startNs !== undefined && e.startNs > 0n && e.startNs <= e.ktimeNs, 'start precedes the exec event');
  assert.ok(ticks > 0 && Number(e.startNs) / 1e9 >= ticks / hz - 1, 'start time is on the boot clock /proc uses');
});

test('in-kernel filters: ignored comm, uid and pid never reach user space; others still do', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const addon = loadBpfAddon();
  t.after(() => addon.close());
  // `sleep` is filtered by name; `nobody` (65534) by uid; everything else passes.
  const { execs, pids } = await execsWhile((cb) => addon.open({ batchMs: 5, ignoreComms: ['sleep'], ignoreUids: [65534] }, cb), async () => [
    (await run('/bin/sleep', ['0'])).pid,
    (await run('/bin/true', ['as-nobody'], undefined, 65534)).pid,
    (await run('/bin/true', ['kept'])).pid,
  ]);
  assert.equal(execs.has(pids[0]!), false, 'comm filter');
  assert.equal(execs.has(pids[1]!), false, 'uid filter');
  assert.equal(execs.get(pids[2]!)?.argv[1], 'kept');
  addon.close();
  assert.throws(() => addon.open({ ignoreComms: ['a-name-longer-than-15'] }, () => {}), { code: 'DE_BPF_ARGS' });
  assert.throws(() => addon.open({ ignoreUids: Array.from({ length: 17 }, (_, i) => i) }, () => {}), { code: 'DE_BPF_ARGS' });
});

test('ebpf_program_path: the built object loads as a replacement; a file that is not one is refused', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const { join, dirname } = await import('node:path');
  const object = join(dirname(ADDON_PATH), '..', 'gen', 'process.bpf.o');
  if (!existsSync(object)) return t.skip(`${object} not built`);
  const addon = loadBpfAddon();
  t.after(() => addon.close());
  const { execs, pids } = await execsWhile((cb) => addon.open({ batchMs: 5, programPath: object }, cb), async () => [(await run('/bin/true', ['replacement'])).pid]);
  assert.equal(execs.get(pids[0]!)?.argv[1], 'replacement');
  addon.close();
  assert.throws(() => addon.open({ programPath: '/etc/hostname' }, () => {}), { code: 'DE_BPF_LOAD' });
  assert.throws(() => addon.open({ programPath: '/nonexistent/x.bpf.o' }, () => {}), /cannot read/);
});

test('fallback: the netlink process connector reports exec (details from /proc, flagged degraded) and exit with codes', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const addon = loadBpfAddon();
  const execs = new Map<number, ExecEvent>();
  const exits = new Map<number, ExitEvent>();
  let forks = 0;
  try {
    addon.openProcConnector({ batchMs: 5 }, (batch) => {
      for (const e of decodeBatch(batch).events) {
        if (e.kind === 'exec') execs.set(e.pid, e);
        else if (e.kind === 'exit') exits.set(e.pid, e);
        else if (e.kind === 'fork') forks++;
      }
    });
  } catch (e) {
    return t.skip(`no process connector here: ${(e as Error).message}`);
  }
  t.after(() => addon.close());
  // `sleep` lives long enough for /proc to be read; `sh -c 'exit 3'` may be gone first (pids and codes still right).
  const sleeper = run('/bin/sleep', ['0.3']);
  const quick = await run('/bin/sh', ['-c', 'exit 3']);
  const slow = await sleeper;
  await new Promise((r) => setTimeout(r, 200));
  const e = execs.get(slow.pid);
  assert.ok(e, 'exec of sleep reported');
  assert.equal(e.degraded, true);
  assert.equal(e.filename, '/usr/bin/sleep');
  assert.deepEqual(e.argv, ['/bin/sleep', '0.3']);
  assert.equal(e.ppid, process.pid);
  assert.equal(e.cwd, process.cwd());
  assert.ok(execs.has(quick.pid), 'a process gone before /proc could be read still has its exec, by pid');
  assert.equal(exits.get(quick.pid)?.exitCode, 3);
  assert.equal(exits.get(slow.pid)?.exitCode, 0);
  assert.ok(forks >= 2);
  assert.throws(() => addon.open({}, () => {}), { code: 'DE_BPF_BUSY' });
});

test('exec records carry the executed file\'s mtime: a binary written a moment ago shows it', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const { mkdtempSync, copyFileSync, rmSync, statSync, utimesSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'de-mtime-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = join(dir, 'fresh-true');
  copyFileSync('/bin/true', fresh);
  const old = join(dir, 'old-true');
  copyFileSync('/bin/true', old);
  utimesSync(old, new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  const addon = loadBpfAddon();
  t.after(() => addon.close());
  const { execs, pids } = await execsWhile((cb) => addon.open({ batchMs: 5 }, cb), async () => [(await run(fresh, [])).pid, (await run(old, [])).pid]);
  assert.equal(execs.get(pids[0]!)?.exeMtimeSec, Math.floor(statSync(fresh).mtimeMs / 1000));
  assert.equal(execs.get(pids[1]!)?.exeMtimeSec, Date.parse('2020-01-02T03:04:05Z') / 1000);
});
