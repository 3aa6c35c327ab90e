import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureProcess } from '../detect/sql/fixture-runner.ts';
import type { KernelEvent } from './kernel-event.ts';
import type { ProcessSnapshot } from './process-snapshot.ts';
import { ProcessTree } from './process-tree.ts';

const snap = (pid: number, ppid: number, name: string, exe: string) => fixtureProcess({ pid, ppid, name, executable_path: exe }, pid) as unknown as ProcessSnapshot;
const base = { tid: 0, uid: 0, gid: 0, euid: 0, cgroupId: 0n, ktimeNs: 0n, comm: '' };

test('ancestry follows fork and exec from a scanned tree, nearest parent first', () => {
  const t = new ProcessTree();
  t.seed([snap(1, 0, 'systemd', '/sbin/init'), snap(100, 1, 'sshd', '/usr/sbin/sshd'), snap(200, 100, 'bash', '/usr/bin/bash')]);
  const events: KernelEvent[] = [
    { ...base, kind: 'fork', pid: 200, ppid: 100, childPid: 300, childTid: 300 },
    { ...base, kind: 'exec', pid: 300, ppid: 200, comm: 'curl', filename: '/usr/bin/curl', argv: ['curl'], argsTruncated: false },
  ];
  for (const e of events) t.apply(e);
  assert.deepEqual(t.ancestry(300).map((a) => a.name), ['bash', 'sshd', 'systemd']);
  t.apply({ ...base, kind: 'fork', pid: 300, ppid: 200, childPid: 301, childTid: 301 });
  assert.deepEqual(t.ancestry(301).map((a) => `${a.pid}:${a.name}`), ['300:curl', '200:bash', '100:sshd', '1:systemd']);
});

test('threads are not processes, exits leave the tree, and an unknown parent still shows its pid', () => {
  const t = new ProcessTree();
  t.seed([snap(1, 0, 'init', '/sbin/init')]);
  t.apply({ ...base, kind: 'fork', pid: 1, ppid: 0, childPid: 1, childTid: 77 });
  assert.equal(t.size, 1);
  t.apply({ ...base, kind: 'exit', pid: 1, ppid: 0, exitCode: 0, signal: 0 });
  assert.equal(t.size, 0);
  assert.deepEqual(t.ancestryOfParent(555), [{ pid: 555, name: '', exe: null }]);
});

test('a scan drops pids it no longer sees, but keeps processes the kernel reported since', () => {
  const t = new ProcessTree();
  t.seed([snap(1, 0, 'init', '/sbin/init'), snap(50, 1, 'old', '/bin/old')]);
  t.apply({ ...base, kind: 'fork', pid: 1, ppid: 0, childPid: 60, childTid: 60 });
  t.seed([snap(1, 0, 'init', '/sbin/init')]);
  assert.equal(t.ancestry(50).length, 0, '50 is gone');
  assert.deepEqual(t.ancestry(60).map((a) => a.pid), [1], '60 started after the scan read /proc');
  t.seed([snap(1, 0, 'init', '/sbin/init')]);
  assert.equal(t.size, 1, 'a second scan without 60 drops it');
});

test('a parent cycle in bad data ends the walk instead of looping', () => {
  const t = new ProcessTree();
  t.seed([snap(2, 3, 'a', '/a'), snap(3, 2, 'b', '/b')]);
  assert.deepEqual(t.ancestry(2).map((a) => a.pid), [3]);
});

test('exec ancestry JSON is reused for siblings and follows a parent that exec\'d or a new parent', () => {
  const tree = new ProcessTree();
  const ev = { ktimeNs: 1n, tid: 0, uid: 0, gid: 0, euid: 0, cgroupId: 0n, argv: [], argsTruncated: false } as const;
  tree.apply({ ...ev, kind: 'exec', pid: 100, ppid: 1, comm: 'bash', filename: '/usr/bin/bash' });
  const slow = (pid: number, ppid: number) => {
    const known = tree.ancestry(pid);
    return JSON.stringify(known.length > 0 ? known : tree.ancestryOfParent(ppid));
  };
  for (const child of [101, 102]) {
    tree.apply({ ...ev, kind: 'fork', pid: 100, ppid: 1, childPid: child, childTid: child, comm: 'bash' });
    assert.equal(tree.execAncestryJson(child, 100), slow(child, 100));
  }
  assert.equal(tree.execAncestryJson(103, 100), slow(103, 100), 'a child the tree has not seen fork');
  tree.apply({ ...ev, kind: 'exec', pid: 100, ppid: 1, comm: 'python3', filename: '/usr/bin/python3' });
  const after = tree.execAncestryJson(101, 100);
  assert.equal(after, slow(101, 100));
  assert.match(after, /python3/, 'the parent exec\'d: the chain says so');
  assert.equal(tree.execAncestryJson(104, 0), '[]');
});
