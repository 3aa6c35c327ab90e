// Attribution on a live capture: a child process opens a TCP connection (HTTP request) and a UDP
// DNS query on loopback while the capture runs; every row the monitor writes for that traffic must
// name the child's pid. No kernel events here, so this is the /proc path (socket inode → fd).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NetworkMonitor } from '../src/network/monitor.ts';
import { LiveCapture } from '../src/sources/pcap/index.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import { startDnsServer } from './net-decode-helpers.ts';

/** This file's own DNS server address: test files run in parallel and each binds port 53. */
const DNS_ADDRESS = '127.0.0.80';

const skip = process.getuid?.() !== 0 ? 'needs root to capture on loopback' : (() => {
  try {
    new LiveCapture({ interface: 'lo', filter: 'port 9' }, { onBatch: () => {} }).stop();
    return false;
  } catch (e) {
    return `live capture unavailable: ${(e as Error).message}`;
  }
})();

const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-attr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('rows of a process\'s TCP and UDP traffic name its pid (procfs attribution)', { skip }, async () => {
  const dns = await startDnsServer(DNS_ADDRESS);
  const server = createServer((s) => {
    s.on('data', () => s.write('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'));
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const db = openStoreForWriting(join(dir, 'daemoneye.db'));
  const monitor = new NetworkMonitor(db, { source: 'live:lo', attribution: 'host' });
  const capture = new LiveCapture({ interface: 'lo', filter: `tcp port ${port} or (udp and host ${DNS_ADDRESS})`, timeoutMs: 20 },
    { onBatch: (b) => monitor.ingest(b) });
  // The child keeps both sockets open for a while, as a real client does between requests.
  const child = spawn(process.execPath, ['-e', `
    const net = require('node:net'), dgram = require('node:dgram');
    const q = Buffer.from('12340100000100000000000003777777076578616d706c65047465737400000100 01'.replace(/ /g, ''), 'hex');
    const u = dgram.createSocket('udp4');
    u.send(q, 53, '${DNS_ADDRESS}');
    const s = net.connect(${port}, '127.0.0.1', () => s.write('GET /attributed HTTP/1.1\\r\\nHost: attr.example.test\\r\\nUser-Agent: child\\r\\n\\r\\n'));
    setTimeout(() => { s.end(); u.close(); }, 1500);
  `], { stdio: 'ignore' });
  await once(child, 'exit');
  await new Promise((r) => setTimeout(r, 300));
  await capture.stop();
  monitor.flush();
  const rows = (table: string) => db.prepare(`SELECT pid, process_name, attribution FROM ${table}`).all() as { pid: number | null; process_name: string; attribution: string }[];
  try {
    const http = rows('http_requests');
    const dnsRows = rows('dns_queries');
    const flows = rows('network_flows');
    assert.equal(http.length, 1);
    assert.equal(dnsRows.length, 1);
    assert.equal(flows.length, 2);
    for (const r of [...http, ...dnsRows, ...flows]) {
      assert.equal(r.pid, child.pid, JSON.stringify({ r, http, dnsRows, flows, test: process.pid }));
      assert.equal(r.attribution, 'procfs');
      // Node names its main thread, and /proc/PID/comm shows that name.
      assert.ok(['node', 'MainThread'].includes(r.process_name), r.process_name);
    }
  } finally {
    db.close();
    server.close();
    await dns.close();
  }
});
