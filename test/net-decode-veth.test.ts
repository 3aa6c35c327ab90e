// A real Ethernet link: a veth pair into a network namespace the test creates (198.51.100.0/24).
// DNS, TLS and HTTP servers run inside the namespace; a client process on the host side talks to
// them while DaemonEye captures on the host end. Rows must match tshark on the file libpcap wrote
// during the same capture, and name the client's pid.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NetworkMonitor } from '../src/network/monitor.ts';
import { testPki } from '../src/sinks/testing/test-cert.ts';
import { LiveCapture } from '../src/sources/pcap/index.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import { tshark } from './net-decode-helpers.ts';

const tag = String(process.pid % 100000);
const NS = `de-net-${tag}`;
const HOST_IF = `dev0-${tag}`;
const NS_IF = `dev1-${tag}`;
const HOST_IP = '198.51.100.1';
const NS_IP = '198.51.100.2';

const skip = process.getuid?.() !== 0 ? 'needs root to create a network namespace'
  : spawnSync('ip', ['netns', 'list']).status !== 0 ? 'iproute2 cannot manage namespaces here'
  : spawnSync('which', ['tshark']).status !== 0 ? 'tshark is not installed' : false;

const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-veth-'));
let servers: ChildProcess | null = null;

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

before(async () => {
  if (skip) return;
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
  ip('link', 'set', NS_IF, 'netns', NS);
  ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
  ip('link', 'set', HOST_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/24`, 'dev', NS_IF);
  ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  const pki = testPki();
  const script = join(dir, 'servers.cjs');
  writeFileSync(script, `
    const dgram = require('node:dgram'), net = require('node:net'), tls = require('node:tls'), http = require('node:http'), fs = require('node:fs');
    const udp = dgram.createSocket('udp4');
    udp.on('message', (m, r) => {
      // Answer A 203.0.113.80 for whatever was asked (the question is echoed, the answer points to it).
      const id = m.subarray(0, 2), q = m.subarray(12);
      const h = Buffer.from([0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]); id.copy(h, 0);
      udp.send(Buffer.concat([h, q, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 80])]), r.port, r.address);
    });
    udp.bind(53, '${NS_IP}');
    const t = tls.createServer({ key: fs.readFileSync(${JSON.stringify(join(pki.dir, 'server.key'))}), cert: fs.readFileSync(${JSON.stringify(join(pki.dir, 'server.pem'))}), ALPNProtocols: ['h2', 'http/1.1'] },
      (s) => { s.on('error', () => {}); s.end('tls ok'); });
    t.listen(443, '${NS_IP}');
    http.createServer((q, r) => { r.writeHead(201); r.end('made'); }).listen(8081, '${NS_IP}', () => console.log('ready'));
  `);
  servers = spawn('ip', ['netns', 'exec', NS, process.execPath, script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(servers.stdout!, 'data');
});

after(() => {
  servers?.kill('SIGKILL');
  if (!skip) {
    spawnSync('ip', ['link', 'del', HOST_IF]);
    spawnSync('ip', ['netns', 'del', NS]);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('DNS, TLS and HTTP across a veth pair: fields match tshark, rows name the client pid', { skip }, async () => {
  const pcap = join(dir, 'veth.pcap');
  const db = openStoreForWriting(join(dir, 'daemoneye.db'));
  const monitor = new NetworkMonitor(db, { source: `live:${HOST_IF}`, attribution: 'host' });
  // A full snap length: the ClientHello (with post-quantum key shares) spans two 1500-byte segments.
  const capture = new LiveCapture({ interface: HOST_IF, filter: `host ${NS_IP}`, writePath: pcap, timeoutMs: 20, snaplen: 65535 },
    { onBatch: (b) => monitor.ingest(b) });
  const client = spawn(process.execPath, ['-e', `
    const dgram = require('node:dgram'), tls = require('node:tls'), http = require('node:http');
    const u = dgram.createSocket('udp4');
    const name = Buffer.concat(['veth', 'example', 'test'].map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])));
    u.send(Buffer.concat([Buffer.from('beef01000001000000000000', 'hex'), name, Buffer.from('0000010001', 'hex')]), 53, '${NS_IP}');
    const s = tls.connect({ host: '${NS_IP}', port: 443, servername: 'veth.example.test', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    s.on('error', () => {});
    s.on('secureConnect', () => {
      // Keep-alive: the socket stays open, as a client's does between requests (procfs attribution
      // needs the socket alive when the flow is first seen; the kernel layer does not).
      http.get({ host: '${NS_IP}', port: 8081, path: '/v?x=1', agent: new http.Agent({ keepAlive: true }),
        headers: { 'user-agent': 'veth-test/1', host: 'svc.veth.test' } }, (r) => r.resume());
    });
    setTimeout(() => { s.destroy(); u.close(); process.exit(0); }, 1200);
  `], { stdio: 'ignore' });
  await once(client, 'exit');
  await new Promise((r) => setTimeout(r, 300));
  await capture.stop();
  monitor.flush();
  try {
    const dns = db.prepare('SELECT query_name, answers, pid, attribution FROM dns_queries').all() as Record<string, unknown>[];
    const tlsRows = db.prepare('SELECT server_name, alpn_offered, ja3, ja3_hash, pid FROM tls_handshakes').all() as Record<string, unknown>[];
    const httpRows = db.prepare('SELECT host, path, has_query, user_agent, status, pid FROM http_requests').all() as Record<string, unknown>[];
    assert.equal(dns.length, 1);
    assert.equal(dns[0]!['query_name'], tshark(pcap, ['-Y', 'dns.flags.response == 1', '-e', 'dns.qry.name'])[0]![0]);
    assert.deepEqual(JSON.parse(String(dns[0]!['answers'])).map((a: { data: string }) => a.data), [tshark(pcap, ['-Y', 'dns.flags.response == 1', '-e', 'dns.a'])[0]![0]]);
    const hello = tshark(pcap, ['-Y', 'tls.handshake.type == 1', '-e', 'tls.handshake.extensions_server_name', '-e', 'tls.handshake.ja3_full', '-e', 'tls.handshake.ja3']);
    assert.equal(tlsRows.length, 1);
    assert.deepEqual([tlsRows[0]!['server_name'], tlsRows[0]!['ja3'], tlsRows[0]!['ja3_hash']], hello[0]);
    const req = tshark(pcap, ['-d', 'tcp.port==8081,http', '-Y', 'http.request', '-e', 'http.host', '-e', 'http.request.uri', '-e', 'http.user_agent']);
    assert.equal(httpRows.length, 1);
    assert.deepEqual([httpRows[0]!['host'], `${httpRows[0]!['path']}?x=1`, httpRows[0]!['user_agent']], req[0]);
    assert.equal(httpRows[0]!['status'], 201);
    const flows = db.prepare('SELECT client_address, server_address, pid FROM network_flows').all() as Record<string, unknown>[];
    assert.equal(flows.length, 3);
    for (const r of [...dns, ...tlsRows, ...httpRows, ...flows]) assert.equal(r['pid'], client.pid, JSON.stringify(r));
    for (const f of flows) assert.deepEqual([f['client_address'], f['server_address']], [HOST_IP, NS_IP]);
  } finally {
    db.close();
  }
});
