// Real trigger: children do memfd_create, W+X mmap/mprotect and a ptrace attach; the sensor must
// report each as a kind-5 record with the right pid, op and name (and nothing for plain RW maps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { decodeBatch, type SecurityEvent } from './records.ts';
import { ADDON_PATH, loadBpfAddon } from './native-addon.ts';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  if (!existsSync(ADDON_PATH)) return `addon not built (${ADDON_PATH}); run scripts/build-native.sh`;
  if (spawnSync('python3', ['-c', 'import ctypes, mmap, os'], { stdio: 'ignore' }).status !== 0) return 'python3 with ctypes/mmap not available';
  return undefined;
}

function py(code: string, ...args: string[]): Promise<{ pid: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn('python3', ['-c', code, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.once('error', reject);
    c.once('exit', (code) => resolve({ pid: c.pid ?? -1, code, stderr }));
  });
}

const MMAP_WX = `import mmap
m = mmap.mmap(-1, 8192, prot=mmap.PROT_READ|mmap.PROT_WRITE|mmap.PROT_EXEC)
m.close()
# a plain RW map must not produce a record
mmap.mmap(-1, 4096, prot=mmap.PROT_READ|mmap.PROT_WRITE).close()`;

const MPROTECT_WX = `import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
addr = libc.mmap(None, 12288, 3, 0x22, -1, 0)  # PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS
assert addr not in (None, ctypes.c_void_p(-1).value)
assert libc.mprotect(addr, 12288, 1) == 0       # PROT_READ only: no record
assert libc.mprotect(addr, 12288, 7) == 0, ctypes.get_errno()  # RWX
sys.stderr.write(str(addr))`;

const PTRACE = `import ctypes, os, signal, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
child = subprocess.Popen(['sleep', '30'])
r = libc.ptrace(16, child.pid, None, None)
err = ctypes.get_errno()
os.kill(child.pid, signal.SIGKILL)
child.wait()
sys.stderr.write('%d %d %d' % (child.pid, r, err))`;

test('memfd_create, W+X mmap/mprotect and ptrace attach are reported as security events', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const addon = loadBpfAddon();
  const sec: SecurityEvent[] = [];
  const errors: Record<string, number> = {};
  const opened = addon.open({ batchMs: 10, selfPid: process.pid }, (batch) => {
    const r = decodeBatch(batch);
    for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
    sec.push(...r.security);
  });
  t.after(() => addon.close());
  assert.ok(opened.tracefs === 'ok' || opened.tracefs === 'mounted', opened.tracefs);
  for (const name of ['handle_ptrace', 'handle_memfd', 'handle_mprotect', 'handle_mmap']) {
    assert.ok(opened.programs[name]?.attached, `${name}: ${opened.programs[name]?.error}`);
  }

  const memfd = await py(`import os, sys; os.memfd_create(sys.argv[1], os.MFD_CLOEXEC)`, 'de-test-memfd');
  const mm = await py(MMAP_WX);
  const mp = await py(MPROTECT_WX);
  const pt = await py(PTRACE);
  for (const r of [memfd, mm, mp, pt]) assert.equal(r.code, 0, r.stderr);
  const mprotectAddr = BigInt(mp.stderr.trim());
  const [tracee, ptraceRet] = pt.stderr.trim().split(' ').map(Number) as [number, number, number];
  assert.equal(ptraceRet, 0, `ptrace(PTRACE_ATTACH) failed in the child: ${pt.stderr}`);

  const find = (pid: number, op: SecurityEvent['op']) => sec.filter((e) => e.pid === pid && e.op === op);
  const deadline = Date.now() + 5000;
  const allSeen = () =>
    find(memfd.pid, 'memfd_create').some((e) => e.name === 'de-test-memfd') &&
    find(mm.pid, 'mmap_wx').some((e) => e.arg1 === 8192n) &&
    find(mp.pid, 'mprotect_wx').length > 0 &&
    find(pt.pid, 'ptrace_attach').length > 0;
  while (!allSeen() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const summary = () => JSON.stringify(sec.filter((e) => [memfd.pid, mm.pid, mp.pid, pt.pid].includes(e.pid)), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

  const m = find(memfd.pid, 'memfd_create').find((e) => e.name === 'de-test-memfd');
  assert.ok(m, `memfd_create not seen: ${summary()}`);
  assert.equal(m.arg0, 1n, 'flags = MFD_CLOEXEC');
  assert.equal(m.ppid, process.pid);
  assert.equal(m.comm, 'python3');

  const wx = find(mm.pid, 'mmap_wx');
  assert.equal(wx.length, 1, `exactly the RWX mmap (not the RW one): ${summary()}`);
  assert.equal(wx[0]!.arg1, 8192n);
  assert.equal(wx[0]!.arg0, 0n, 'address hint: none');

  const mpe = find(mp.pid, 'mprotect_wx');
  assert.equal(mpe.length, 1, `exactly the RWX mprotect (not the read-only one): ${summary()}`);
  assert.equal(mpe[0]!.arg0, mprotectAddr);
  assert.equal(mpe[0]!.arg1, 12288n);

  const p = find(pt.pid, 'ptrace_attach');
  assert.equal(p.length, 1, summary());
  assert.equal(p[0]!.targetPid, tracee);
  assert.equal(p[0]!.arg0, 16n);

  assert.deepEqual(errors, {});
});
