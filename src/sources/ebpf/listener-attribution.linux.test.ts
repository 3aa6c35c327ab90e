// Accept attribution against real sockets: a server listening before the seed is found through
// /proc, and listen events in the stream take over; an exit forgets the listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ListenerAttribution, procAddress } from './listener-attribution.linux.ts';
import type { ConnectionEvent } from '../../normalize/kernel-event.ts';

const base = { ktimeNs: 1n, tid: 0, gid: 0, euid: 0, cgroupId: 0n, remoteAddress: '127.0.0.1', remotePort: 40000 };
function conn(event: ConnectionEvent['event'], family: 4 | 6, localAddress: string, localPort: number, pid = 0, comm = ''): ConnectionEvent {
  return { ...base, kind: 'connection', event, family, localAddress, localPort, pid, ppid: 1, uid: 0, comm };
}

test('/proc/net/tcp address words decode to dotted quads and RFC 5952 text', () => {
  assert.equal(procAddress('0100007F', 4), '127.0.0.1');
  assert.equal(procAddress('00000000000000000000000001000000', 6), '::1');
  assert.equal(procAddress('0000000000000000FFFF00000100007F', 6), '::ffff:127.0.0.1');
});

test('a server listening before the sensor started is found through /proc', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const a = new ListenerAttribution();
  assert.ok(a.seedFromProc() >= 1);
  assert.equal(a.listenerFor(conn('accept', 4, '127.0.0.1', port))?.pid, process.pid);
});

test('listen events credit accepts on the exact address, the wildcard, and dual-stack ::; exits forget', () => {
  const a = new ListenerAttribution();
  a.observe(conn('listen', 4, '0.0.0.0', 8080, 100, 'nginx'));
  a.observe(conn('listen', 6, '::', 9090, 200, 'api'));
  a.observe(conn('listen', 4, '10.0.0.1', 8080, 300, 'admin'));
  assert.equal(a.listenerFor(conn('accept', 4, '10.0.0.1', 8080))?.comm, 'admin', 'exact address wins');
  assert.equal(a.listenerFor(conn('accept', 4, '10.0.0.2', 8080))?.comm, 'nginx', 'then the wildcard');
  assert.equal(a.listenerFor(conn('accept', 6, '::ffff:10.0.0.2', 9090))?.comm, 'api', 'v4-mapped on a dual-stack socket');
  assert.equal(a.listenerFor(conn('accept', 4, '10.0.0.2', 9999)), null, 'no listener: unattributed');
  a.observe({ ...base, kind: 'exit', pid: 100, ppid: 1, uid: 0, comm: 'nginx', exitCode: 0, signal: 0 } as never);
  assert.equal(a.listenerFor(conn('accept', 4, '10.0.0.2', 8080)), null, 'the listener exited');
});

test('an exit forgets only what that pid still holds: an endpoint another process took over stays', () => {
  const a = new ListenerAttribution();
  const exit = (pid: number) => a.observe({ ...base, kind: 'exit', pid, ppid: 1, uid: 0, comm: 'x', exitCode: 0, signal: 0 } as never);
  a.observe(conn('listen', 4, '0.0.0.0', 80, 100, 'old'));
  a.observe(conn('listen', 4, '0.0.0.0', 443, 100, 'old'));
  a.observe(conn('listen', 4, '0.0.0.0', 80, 200, 'new')); // a restart: the new server binds before the old one exits
  exit(100);
  assert.equal(a.listenerFor(conn('accept', 4, '10.0.0.2', 80))?.comm, 'new');
  assert.equal(a.listenerFor(conn('accept', 4, '10.0.0.2', 443)), null);
  assert.equal(a.size, 1);
  for (let pid = 1000; pid < 3000; pid++) exit(pid); // exits of processes that never listened
  assert.equal(a.size, 1);
  exit(200);
  assert.equal(a.size, 0);
});
