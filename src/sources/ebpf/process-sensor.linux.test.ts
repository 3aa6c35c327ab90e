// Real trigger: the kernel runs the processes and the sensor must report every exec and exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { decodeBatch, type ExecEvent, type ExitEvent } from './records.ts';
import { ADDON_PATH, loadBpfAddon } from './native-addon.ts';
import { createBootClock } from './boot-clock.ts';

const N = 200;

function run(file: string, args: string[]): Promise<{ pid: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { stdio: 'ignore' });
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
