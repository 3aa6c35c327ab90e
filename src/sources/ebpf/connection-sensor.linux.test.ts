// Real trigger: this process listens on and connects to loopback; the sensor must report the listen,
// the connect (with its ephemeral source port) and the server-side accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { decodeBatch, type ConnectionEvent } from './records.ts';
import { ADDON_PATH, loadBpfAddon } from './native-addon.ts';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  if (!existsSync(ADDON_PATH)) return `addon not built (${ADDON_PATH}); run scripts/build-native.sh`;
  return undefined;
}

function listen(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => s.end());
    srv.once('error', reject);
    srv.listen(0, host, () => resolve(srv));
  });
}

/** Connects, waits for the handshake, returns the client's local port and closes. */
function connectOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, host, () => {
      const local = c.localPort!;
      c.end();
      resolve(local);
    });
    c.once('error', reject);
  });
}

async function waitFor<T>(find: () => T | undefined, ms = 3000): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = find();
    if (v !== undefined || Date.now() >= deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('TCP listen, connect and accept on loopback are reported (IPv4, and IPv6 when ::1 exists)', async (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const addon = loadBpfAddon();
  const conns: ConnectionEvent[] = [];
  const errors: Record<string, number> = {};
  // selfPid 0: the events under test come from this very process, which the default would filter.
  const opened = addon.open({ batchMs: 5, selfPid: 0 }, (batch) => {
    const r = decodeBatch(batch);
    for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
    for (const e of r.events) if (e.kind === 'connection') conns.push(e);
  });
  t.after(() => addon.close());
  assert.ok(opened.programs['handle_conn']?.attached, `handle_conn: ${opened.programs['handle_conn']?.error}`);

  const check = async (host: string, family: 4 | 6) => {
    const srv = await listen(host);
    t.after(() => srv.close());
    const port = (srv.address() as net.AddressInfo).port;
    const local = await connectOnce(host, port);
    const find = (ev: ConnectionEvent['event'], p: (e: ConnectionEvent) => boolean) => () =>
      conns.find((e) => e.event === ev && e.family === family && p(e));

    const l = await waitFor(find('listen', (e) => e.localPort === port && e.pid === process.pid));
    assert.ok(l, `listen on ${host}:${port}; got ${JSON.stringify(conns, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    assert.equal(l.localAddress, host);
    assert.ok(l.comm.length > 0);

    const c = await waitFor(find('connect', (e) => e.remotePort === port && e.pid === process.pid));
    assert.ok(c, `connect to ${host}:${port}`);
    assert.deepEqual(
      [c.localAddress, c.localPort, c.remoteAddress, c.remotePort, c.uid, c.ppid],
      [host, local, host, port, 0, process.ppid],
    );

    const a = await waitFor(find('accept', (e) => e.localPort === port && e.remotePort === local));
    assert.ok(a, `accept on ${host}:${port} from ${local}`);
    assert.deepEqual(
      [a.localAddress, a.remoteAddress, a.pid, a.tid, a.ppid, a.uid, a.gid, a.euid, a.comm],
      [host, host, 0, 0, 0, 0, 0, 0, ''],
    );
  };

  await check('127.0.0.1', 4);
  await t.test('IPv6 loopback [::1]', async (st) => {
    let probe: net.Server;
    try {
      probe = await listen('::1');
    } catch (e) {
      return st.skip(`no IPv6 loopback: ${(e as Error).message}`);
    }
    await new Promise((r) => probe.close(r));
    await check('::1', 6);
  });
  assert.deepEqual(errors, {});
  const s = addon.stats();
  assert.equal(s.kernelDrops, 0);
  assert.equal(s.userDrops, 0);
});
