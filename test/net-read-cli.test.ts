// `daemoneye net read` end to end: real loopback traffic captured by tcpdump (DNS tunnelling-shaped
// lookups among ordinary ones, TLS, HTTP, SSH on an odd port), converted to pcapng, read by the CLI
// into a fresh store; the summary, the stored rows (through `daemoneye query`) and the alerts of
// the network rules must reflect what was sent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli } from './cli-helpers.ts';
import { writePcap } from './net-decode-packets.ts';
import { haveTools, httpGet, sshBanner, startDnsServer, startServers, startTcpdump, tlsClient, udpDns, type LoopbackServers } from './net-decode-helpers.ts';

/** This file's own DNS server address: test files run in parallel and each binds port 53. */
const DNS_ADDRESS = '127.0.0.78';

const skip = haveTools() ?? (spawnSync('which', ['editcap']).status === 0 ? false : 'editcap is not installed');
const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-read-'));
const pcap = join(dir, 'traffic.pcap');
const pcapng = join(dir, 'traffic.pcapng');
const dataDir = join(dir, 'data');
let servers: LoopbackServers;

/** Twelve distinct base32 labels under one domain, as a DNS tunnel sends them. */
function tunnelNames(): [string, number][] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  return Array.from({ length: 12 }, () => [`${Array.from({ length: 48 }, () => alphabet[(next() >>> 16) % 32]).join('')}.t.tunnel.example`, 16] as [string, number]);
}

describe('daemoneye net read', { skip }, () => {
  before(async () => {
    const dns = await startDnsServer(DNS_ADDRESS);
    servers = await startServers();
    const stop = await startTcpdump('lo', pcap, `host ${DNS_ADDRESS} or port ${servers.tlsPort} or port ${servers.httpPort} or port ${servers.sshPort}`);
    try {
      await udpDns([['www.example.test', 1], ...tunnelNames(), ['nx.example.test', 1]], DNS_ADDRESS);
      await tlsClient(servers.tlsPort, 'tls.example.test', ['h2']);
      await httpGet('127.0.0.1', servers.httpPort, '/download/tool.sh?key=abc', 'Wget/1.21.3');
      await sshBanner(servers.sshPort);
    } finally {
      await stop();
      await dns.close();
      await servers.close();
    }
    const r = spawnSync('editcap', ['-F', 'pcapng', pcap, pcapng]);
    assert.equal(r.status, 0, r.stderr?.toString());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads a pcapng file into the store, runs the network rules and summarises', () => {
    const r = cli(['--data-dir', dataDir, 'net', 'read', pcapng, '--format', 'json', '--top', '20']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[#+\]\s+100%/, 'a progress bar on stderr');
    const s = JSON.parse(r.stdout);
    assert.equal(s.format, 'pcapng');
    assert.ok(s.packets > 40);
    assert.deepEqual(s.decodeErrors, {});
    assert.equal(s.rows.dns, 14);
    assert.equal(s.rows.tls, 1);
    assert.equal(s.rows.http, 1);
    assert.ok(s.topTalkers.some((t: { address: string }) => t.address === DNS_ADDRESS));
    assert.ok(s.dnsNames.some((d: { name: string; nxdomain: number }) => d.name === 'nx.example.test' && d.nxdomain === 1));
    assert.deepEqual(s.tlsServers.map((t: { server_name: string }) => t.server_name), ['tls.example.test']);
    const rules = s.alerts.map((a: { rule_id: string }) => a.rule_id).sort();
    assert.deepEqual(rules, ['DE-NET-0001', 'DE-NET-0010'], JSON.stringify(s.alerts));
    assert.match(s.alerts.find((a: { rule_id: string }) => a.rule_id === 'DE-NET-0001').summary, /12 long random names under tunnel\.example/);
  });

  test('the same SQL works on the stored rows, and payload details stay out', () => {
    // One query through the CLI (what an analyst types), the rest straight from the store file.
    const viaCli = cli(['--data-dir', dataDir, 'query', 'SELECT method, host, path, has_query, user_agent, status, attribution, capture_source FROM http_requests', '--format', 'json']);
    assert.equal(viaCli.status, 0, viaCli.stderr);
    const db = new Database(join(dataDir, 'daemoneye.db'), { readonly: true });
    after(() => db.close());
    const q = (sql: string) => db.prepare(sql).all() as Record<string, unknown>[];
    const http = q('SELECT method, host, path, has_query, user_agent, status, attribution, capture_source FROM http_requests');
    assert.deepEqual(JSON.parse(viaCli.stdout), http);
    assert.deepEqual(http.map((h) => [h['method'], h['path'], h['has_query'], h['user_agent'], h['status'], h['attribution']]),
      [['GET', '/download/tool.sh', 1, 'Wget/1.21.3', 200, 'none']]);
    assert.match(String(http[0]!['capture_source']), /^file:.*traffic\.pcapng$/);
    const tunnel = q(`SELECT count(*) AS n, min(subdomain_length) AS len, min(subdomain_entropy) AS h FROM dns_queries WHERE query_name LIKE '%.t.tunnel.example'`);
    assert.equal(tunnel[0]!['n'], 12);
    assert.equal(tunnel[0]!['len'], 50);
    assert.ok(Number(tunnel[0]!['h']) > 4);
    const tls = q('SELECT server_name, alpn_offered, client_version, ja4 FROM tls_handshakes');
    assert.deepEqual(JSON.parse(String(tls[0]!['alpn_offered'])), ['h2']);
    const ssh = q(`SELECT application, ssh_server_banner FROM network_flows WHERE application = 'ssh'`);
    assert.equal(ssh[0]!['ssh_server_banner'], 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3');
    const alerts = q(`SELECT rule_id FROM alerts ORDER BY rule_id`);
    assert.deepEqual(alerts.map((a) => a['rule_id']), ['DE-NET-0001', 'DE-NET-0010']);
  });

  test('reading the file again adds rows but raises no duplicate alerts', () => {
    const r = cli(['--data-dir', dataDir, 'net', 'read', pcap, '--format', 'json', '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout).alerts, []);
  });

  test('a missing or non-capture file is a clear error with a code and hint', () => {
    const missing = cli(['--data-dir', dataDir, 'net', 'read', join(dir, 'nope.pcap')]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /DE_PCAP_FILE/);
    const notPcap = join(dir, 'notes.txt');
    writeFileSync(notPcap, 'these are not packets\n');
    const bad = cli(['--data-dir', dataDir, 'net', 'read', notPcap]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /DE_PCAP_FILE/);
    assert.match(bad.stderr, /hint/i);
    const wifi = join(dir, 'wifi.pcap');
    writePcap(wifi, 105, [Buffer.alloc(40)]); // DLT_IEEE802_11: not decoded
    const unsupported = cli(['--data-dir', dataDir, 'net', 'read', wifi]);
    assert.notEqual(unsupported.status, 0);
    assert.match(unsupported.stderr, /DE_NET_LINKTYPE/);
    assert.match(unsupported.stderr, /IEEE802_11/);
  });
});
