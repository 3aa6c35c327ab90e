// The agent with packet capture on, end to end: `daemoneye run` starts the privileged collector,
// which captures on loopback and forwards batches; the agent decodes them on its worker, stores
// DNS and HTTP rows attributed to the process that sent them, and the network rules raise alerts
// (a mining-pool lookup, a script fetched from an IP) within a pass.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { cliAsync } from './cli-helpers.ts';
import { startDnsServer } from './net-decode-helpers.ts';
import { PCAP_ADDON_PATH } from '../src/sources/pcap/native-pcap.ts';

/** This file's own DNS server address: test files run in parallel and each binds port 53. */
const DNS_ADDRESS = '127.0.0.79';

const BPF_ADDON = new URL('../native/build/Release/daemoneye_bpf.node', import.meta.url);
const skip = process.getuid?.() !== 0 ? 'needs root: the collector captures packets and loads eBPF'
  : !existsSync(PCAP_ADDON_PATH) ? 'the pcap addon is not built (scripts/build-native.sh)'
  : !existsSync(BPF_ADDON) ? 'the eBPF sensor is not built (scripts/build-native.sh)' : false;

const work = mkdtempSync(join(tmpdir(), 'de-net-agent-'));
let agent: ChildProcess | null = null;
after(() => {
  agent?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

test('live capture through the collector: attributed rows and network alerts', { skip, timeout: 120_000 }, async () => {
  const dns = await startDnsServer(DNS_ADDRESS);
  const http = createServer((s) => {
    s.on('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
    s.on('error', () => {});
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const port = (http.address() as AddressInfo).port;
  const dataDir = join(work, 'data');
  agent = cliAsync(['--data-dir', dataDir, 'run', '--interval', '30'], {
    DAEMONEYE_ENTERPRISE__KERNEL_MONITORING__ENABLE_EBPF: 'true',
    DAEMONEYE_ENTERPRISE__NETWORK_MONITORING__ENABLE_PACKET_CAPTURE: 'true',
    DAEMONEYE_ENTERPRISE__NETWORK_MONITORING__CAPTURE_INTERFACE: 'lo',
    DAEMONEYE_ENTERPRISE__NETWORK_MONITORING__CAPTURE_FILTER: `host ${DNS_ADDRESS} or tcp port ${port}`,
    DAEMONEYE_ALERTING__STDOUT__ENABLED: 'false',
  });
  let log = '';
  agent.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  for (let i = 0; i < 600 && !log.includes('packet capture active'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(log, /packet capture active/, log);

  // A client process of its own: a mining-pool lookup and a script fetched from an IP, socket held open a moment.
  const client = spawn(process.execPath, ['-e', `
    const net = require('node:net'), dgram = require('node:dgram');
    const name = Buffer.concat([Buffer.from('abcd01000001000000000000', 'hex'),
      ...'pool.supportxmr.com'.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from('0000010001', 'hex')]);
    const u = dgram.createSocket('udp4');
    u.send(name, 53, '${DNS_ADDRESS}');
    const s = net.connect(${port}, '127.0.0.1', () => s.write('GET /drop/x.sh HTTP/1.1\\r\\nHost: 127.0.0.1:${port}\\r\\nUser-Agent: curl/8.5.0\\r\\n\\r\\n'));
    s.on('data', () => {});
    setTimeout(() => { s.destroy(); u.close(); }, 800);
  `], { stdio: 'ignore' });
  await once(client, 'exit');

  const open = () => new Database(join(dataDir, 'daemoneye.db'), { readonly: true });
  let alerts: { rule_id: string; summary: string }[] = [];
  for (let i = 0; i < 150 && alerts.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const db = open();
    alerts = db.prepare(`SELECT rule_id, summary FROM alerts WHERE rule_id IN ('DE-NET-0003', 'DE-NET-0008') ORDER BY rule_id`).all() as typeof alerts;
    db.close();
  }
  assert.deepEqual(alerts.map((a) => a.rule_id), ['DE-NET-0003', 'DE-NET-0008'], log);
  const db = open();
  try {
    const dnsRow = db.prepare(`SELECT pid, attribution, capture_source, response_code FROM dns_queries WHERE query_name = 'pool.supportxmr.com'`).get() as Record<string, unknown>;
    assert.equal(dnsRow['pid'], client.pid);
    assert.equal(dnsRow['capture_source'], 'live:lo');
    assert.equal(dnsRow['response_code'], 'NOERROR');
    const httpRow = db.prepare(`SELECT pid, attribution, path, user_agent, status FROM http_requests`).get() as Record<string, unknown>;
    assert.equal(httpRow['pid'], client.pid);
    assert.equal(httpRow['attribution'], 'kernel', 'TCP rows come from the kernel layer\'s connect events');
    assert.equal(httpRow['path'], '/drop/x.sh');
    assert.equal(httpRow['status'], 200);
  } finally {
    db.close();
    agent.kill('SIGTERM');
    await once(agent, 'exit');
    agent = null;
    http.close();
    await dns.close();
  }
});
