import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KernelEvent } from '../normalize/kernel-event.ts';
import { KernelEventWriter } from './kernel-event-writer.ts';
import { openMemoryStore } from './open-store.ts';

const base = { ktimeNs: 123_456_789_012n, pid: 4242, tid: 4242, ppid: 1, uid: 1000, gid: 1000, euid: 0, cgroupId: 2n ** 40n + 7n, comm: 'bash' };

test('a batch of exec, fork and exit events lands in its tables with every field, 64-bit values exact', () => {
  const db = openMemoryStore();
  const events: KernelEvent[] = [
    { ...base, kind: 'fork', childPid: 4243, childTid: 4243 },
    { ...base, pid: 4243, tid: 4243, ppid: 4242, kind: 'exec', filename: '/bin/sh', argv: ['sh', '-c', 'exit 7'], argsTruncated: false },
    { ...base, pid: 4243, tid: 4243, ppid: 4242, kind: 'exit', exitCode: 7, signal: 0 },
    { ...base, kind: 'connection', event: 'connect', family: 6, localAddress: '::1', localPort: 50000, remoteAddress: '::1', remotePort: 443 },
  ];
  new KernelEventWriter(db).write(events, (k) => 1_767_225_600_000 + Number(k / 1_000_000n));
  db.defaultSafeIntegers(true);
  const exec = db.prepare('SELECT * FROM process_exec').get() as Record<string, unknown>;
  assert.equal(exec['filename'], '/bin/sh');
  assert.equal(exec['command_line'], 'sh -c exit 7');
  assert.equal(exec['argv'], '["sh","-c","exit 7"]');
  assert.equal(exec['effective_user_id'], 0n);
  assert.equal(exec['cgroup_id'], 2n ** 40n + 7n);
  assert.equal(exec['ktime_ns'], 123_456_789_012n);
  assert.equal(exec['time'], 1_767_225_600_000n + 123_456n);
  const exit = db.prepare('SELECT pid, ppid, exit_code, signal FROM process_exit').get();
  assert.deepEqual(exit, { pid: 4243n, ppid: 4242n, exit_code: 7n, signal: 0n });
  const conn = db.prepare('SELECT event, pid, family, protocol, local_address, local_port, remote_address, remote_port FROM network_connections').get();
  assert.deepEqual(conn, { event: 'connect', pid: 4242n, family: 6n, protocol: 'tcp', local_address: '::1', local_port: 50000n, remote_address: '::1', remote_port: 443n });
  const fork = db.prepare('SELECT parent_pid, child_pid FROM process_fork').get();
  assert.deepEqual(fork, { parent_pid: 4242n, child_pid: 4243n });
});
