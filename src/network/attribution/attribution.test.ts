// Attribution parsers against real file layouts: a /proc tree in a temp dir with the kernel's
// /proc/net formats (IPv4, IPv6, IPv4-mapped) and fd symlinks to sockets; and network_connections
// rows in a real store as the kernel layer writes them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openMemoryStore } from '../../store/open-store.ts';
import type { Endpoints } from '../records.ts';
import { KernelAttributor } from './kernel-attributor.ts';
import { procNetAddress, ProcfsAttributor } from './procfs-attributor.linux.ts';

const root = mkdtempSync(join(tmpdir(), 'daemoneye-fake-proc-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ep = (protocol: string, c: string, cp: number, s: string, sp: number): Endpoints =>
  ({ protocol, ipVersion: c.includes(':') ? 6 : 4, clientAddress: c, clientPort: cp, serverAddress: s, serverPort: sp, communityId: null });

test('/proc/net address formats: IPv4, IPv6 and IPv4-mapped IPv6 (host-order words)', () => {
  assert.deepEqual(procNetAddress('0100007F:1F90'), ['127.0.0.1', 8080]);
  assert.deepEqual(procNetAddress('B80D0120000000000000000001000000:01BB'), ['2001:db8::1', 443]);
  assert.deepEqual(procNetAddress('0000000000000000FFFF00000100007F:0035'), ['127.0.0.1', 53]);
  assert.deepEqual(procNetAddress('00000000000000000000000001000000:0016'), ['::1', 22]);
});

test('procfs: socket inodes from /proc/net matched to /proc/PID/fd links name the owner', () => {
  mkdirSync(join(root, 'net'));
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  writeFileSync(join(root, 'net', 'tcp'), header
    + '   0: 0500000A:9C40 0A6433C6:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 5001 1 0 20 4 30 10 -1\n');
  writeFileSync(join(root, 'net', 'tcp6'), header
    + '   0: B80D0120000000000000000001000000:A000 B80D0120000000000000000002000000:0050 01 00000000:00000000 00:00000000 00000000  1000        0 5002 1 0\n');
  writeFileSync(join(root, 'net', 'udp'), header
    + '   0: 00000000:7530 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 5003 2 0\n');
  writeFileSync(join(root, 'net', 'udp6'), header);
  for (const [pid, comm, inodes] of [[4242, 'curl', [5001, 5003]], [4343, 'python3', [5002]]] as const) {
    mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
    writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
    inodes.forEach((inode, i) => symlinkSync(`socket:[${inode}]`, join(root, String(pid), 'fd', String(10 + i))));
    symlinkSync('/dev/null', join(root, String(pid), 'fd', '0'));
  }
  const a = new ProcfsAttributor(root);
  const tcp4 = ep('tcp', '10.0.0.5', 40000, '198.51.100.10', 443);
  const tcp6 = ep('tcp', '2001:db8::1', 40960, '2001:db8::2', 80);
  const udp = ep('udp', '10.0.0.5', 30000, '192.0.2.53', 53);
  const stranger = ep('tcp', '192.0.2.7', 5555, '192.0.2.8', 80);
  a.refresh([tcp4, tcp6, udp, stranger]);
  assert.deepEqual(a.attribute(tcp4), { pid: 4242, processName: 'curl', method: 'procfs' });
  assert.deepEqual(a.attribute(tcp6), { pid: 4343, processName: 'python3', method: 'procfs' });
  assert.deepEqual(a.attribute(udp), { pid: 4242, processName: 'curl', method: 'procfs' });
  assert.deepEqual(a.attribute(stranger), { pid: null, processName: null, method: 'none' });
  // The socket closes (gone from /proc/net): the answer found while it was open still holds.
  writeFileSync(join(root, 'net', 'tcp'), header);
  a.refresh([tcp4]);
  assert.equal(a.attribute(tcp4).pid, 4242);
});

test('kernel: connect and accept events in network_connections attribute both ends; IPv4-mapped addresses match', () => {
  const db = openMemoryStore();
  const insert = db.prepare(`INSERT INTO network_connections (time, ktime_ns, event, pid, tid, ppid, user_id, comm, cgroup_id, family, protocol,
    local_address, local_port, remote_address, remote_port) VALUES (?, 0, ?, ?, ?, 1, 0, ?, 0, ?, 'tcp', ?, ?, ?, ?)`);
  const now = Date.now();
  insert.run(now, 'connect', 700, 700, 'wget', 4, '10.0.0.5', 41000, '203.0.113.9', 80);
  insert.run(now, 'listen', 800, 800, 'nginx', 6, '::', 8443, '::', 0);
  insert.run(now, 'accept', 0, 0, '', 6, '::ffff:10.0.0.5', 8443, '::ffff:198.51.100.77', 51000); // unattributed accept
  const k = new KernelAttributor(db);
  k.refresh();
  assert.deepEqual(k.attribute(ep('tcp', '10.0.0.5', 41000, '203.0.113.9', 80)), { pid: 700, processName: 'wget', method: 'kernel' });
  assert.deepEqual(k.attribute(ep('tcp', '198.51.100.77', 51000, '10.0.0.5', 8443)), { pid: 800, processName: 'nginx', method: 'kernel' }, 'the listener owns what it accepts');
  assert.equal(k.attribute(ep('udp', '10.0.0.5', 41000, '203.0.113.9', 80)).pid, null, 'kernel events are TCP only');
  insert.run(now, 'connect', 900, 900, 'ssh', 6, '::ffff:10.0.0.5', 42000, '::ffff:198.51.100.22', 22);
  k.refresh();
  assert.equal(k.attribute(ep('tcp', '10.0.0.5', 42000, '198.51.100.22', 22)).pid, 900, 'rows added later are read incrementally');
  db.close();
});
