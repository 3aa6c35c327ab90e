// Our decoders against tshark, field by field, on real traffic: DNS (UDP and TCP), TLS with and
// without SNI/ALPN, HTTP on arbitrary ports (IPv4 and IPv6) and SSH banners, captured by tcpdump on
// loopback as Ethernet (lo) and as Linux cooked v2 (the `any` interface). Reads the files with the
// production offline reader (libpcap addon).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PacketAnalyzer } from '../src/network/analyzer.ts';
import { totalDecodeErrors } from '../src/network/decode/decode-errors.ts';
import { dnsRcodeName, dnsTypeName } from '../src/network/decode/dns.ts';
import type { AnalyzerOutput } from '../src/network/records.ts';
import { openOffline } from '../src/sources/pcap/index.ts';
import { generateTraffic, haveTools, tshark, type LoopbackServers } from './net-decode-helpers.ts';

const skip = haveTools() ?? (() => {
  try {
    openOffline('/dev/null');
  } catch (e) {
    if ((e as { code?: string }).code === 'DE_SOURCE_UNAVAILABLE') return 'the pcap addon is not built (scripts/build-native.sh)';
  }
  return null;
})();

const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-decode-'));
const files = [
  { iface: 'lo', file: join(dir, 'lo.pcap'), linktype: 1 },
  { iface: 'any', file: join(dir, 'any.pcap'), extra: ['-y', 'LINUX_SLL2'], linktype: 276 },
];
let servers: LoopbackServers;

function analyze(file: string): { out: AnalyzerOutput; analyzer: PacketAnalyzer; linktype: number } {
  const capture = openOffline(file);
  const analyzer = new PacketAnalyzer();
  for (const batch of capture) analyzer.ingest(batch);
  analyzer.flush();
  return { out: analyzer.drain(), analyzer, linktype: capture.linktype };
}

const list = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(','));

describe('decoders agree with tshark on real loopback traffic', { skip: skip ?? false }, () => {
  before(async () => {
    servers = await generateTraffic(files);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const f of files) {
    describe(`${f.iface} (linktype ${f.linktype})`, () => {
      let out: AnalyzerOutput;
      let analyzer: PacketAnalyzer;
      before(() => {
        const r = analyze(f.file);
        assert.equal(r.linktype, f.linktype);
        out = r.out;
        analyzer = r.analyzer;
      });

      test('every packet decodes, none is counted as malformed', () => {
        const frames = tshark(f.file, ['-e', 'frame.number']).length;
        assert.ok(frames > 50, `captured ${frames} frames`);
        assert.equal(analyzer.counters.packets, frames);
        assert.equal(analyzer.counters.ipPackets, frames);
        assert.equal(totalDecodeErrors(analyzer.errors), 0);
      });

      test('flows: packets and bytes per direction match tshark conversation sums', () => {
        const rows = tshark(f.file, ['-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst',
          '-e', 'tcp.dstport', '-e', 'udp.dstport', '-e', 'ip.len', '-e', 'ipv6.plen', '-e', '_ws.col.Protocol', '-e', 'tcp.flags']);
        const conv = new Map<string, { packets: number; bytes: number; flags: number }>();
        for (const r of rows) {
          const src = r[0] || r[1]!, sport = r[2] || r[3]!, dst = r[4] || r[5]!, dport = r[6] || r[7]!;
          const proto = r[2] ? 'tcp' : 'udp';
          const bytes = r[8] ? Number(r[8]) : Number(r[9]) + 40;
          const key = `${proto} ${src} ${sport} > ${dst} ${dport}`;
          const c = conv.get(key) ?? { packets: 0, bytes: 0, flags: 0 };
          c.packets++;
          c.bytes += bytes;
          c.flags |= r[11] ? Number(r[11]) : 0;
          conv.set(key, c);
        }
        let directions = 0;
        for (const fl of out.flows) {
          const toServer = conv.get(`${fl.protocol} ${fl.clientAddress} ${fl.clientPort} > ${fl.serverAddress} ${fl.serverPort}`);
          const toClient = conv.get(`${fl.protocol} ${fl.serverAddress} ${fl.serverPort} > ${fl.clientAddress} ${fl.clientPort}`);
          assert.ok(toServer, `tshark has ${fl.clientAddress}:${fl.clientPort} > ${fl.serverAddress}:${fl.serverPort}`);
          assert.equal(fl.packetsToServer, toServer.packets);
          assert.equal(fl.bytesToServer, toServer.bytes);
          assert.equal(fl.tcpFlagsToServer, toServer.flags & 0xff);
          assert.equal(fl.packetsToClient, toClient?.packets ?? 0);
          assert.equal(fl.bytesToClient, toClient?.bytes ?? 0);
          directions += toClient ? 2 : 1;
        }
        assert.equal(directions, conv.size, 'every tshark direction belongs to exactly one of our flows');
        // Flows to our servers started with a SYN from the client: orientation must follow it.
        const ours = [servers.tlsPort, servers.httpPort, servers.http6Port, servers.sshPort];
        const mine = out.flows.filter((x) => x.protocol === 'tcp' && (ours.includes(x.serverPort) || ours.includes(x.clientPort)));
        assert.ok(mine.length >= 6);
        for (const fl of mine) assert.ok(ours.includes(fl.serverPort), `client ${fl.clientPort} -> server ${fl.serverPort}`);
      });

      test('DNS: transaction, name, type, rcode and every answer match', () => {
        const rows = tshark(f.file, ['-Y', 'dns.flags.response == 1', '-e', 'dns.id', '-e', 'dns.qry.name', '-e', 'dns.qry.type',
          '-e', 'dns.flags.rcode', '-e', 'dns.a', '-e', 'dns.aaaa', '-e', 'dns.cname', '-e', 'dns.txt', '-e', 'dns.count.answers']);
        assert.equal(rows.length, 7);
        assert.equal(out.dns.length, rows.length);
        for (const r of rows) {
          const ours = out.dns.find((d) => d.transactionId === Number(r[0]));
          assert.ok(ours, `transaction ${r[0]}`);
          assert.equal(ours.queryName, r[1]);
          assert.equal(ours.queryType, dnsTypeName(Number(r[2])));
          assert.equal(ours.responseCode, dnsRcodeName(Number(r[3])));
          const of = (t: string) => ours.answers!.filter((a) => a.type === t).map((a) => a.data);
          assert.deepEqual(of('A'), list(r[4]));
          assert.deepEqual(of('AAAA'), list(r[5]));
          assert.deepEqual(of('CNAME'), list(r[6]));
          assert.deepEqual(of('TXT'), list(r[7]));
          assert.equal(ours.answerCount, Number(r[8]));
          assert.ok(ours.latencyMs !== null && ours.latencyMs >= 0, 'query and response were paired');
        }
        assert.ok(out.dns.some((d) => d.protocol === 'tcp'), 'DNS over TCP decoded');
      });

      test('TLS ClientHello: SNI, ALPN, JA3 string and hash match; ServerHello version and cipher match', () => {
        // Decode-as: tshark's TLS heuristics on an arbitrary port are not what is being tested.
        const asTls = ['-d', `tcp.port==${servers.tlsPort},tls`];
        const hellos = tshark(f.file, [...asTls, '-Y', 'tls.handshake.type == 1', '-e', 'tcp.srcport', '-e', 'tls.handshake.extensions_server_name',
          '-e', 'tls.handshake.extensions_alpn_str', '-e', 'tls.handshake.ja3_full', '-e', 'tls.handshake.ja3']);
        assert.equal(hellos.length, 2);
        assert.equal(out.tls.length, hellos.length);
        for (const r of hellos) {
          const ours = out.tls.find((t) => t.clientPort === Number(r[0]));
          assert.ok(ours);
          assert.equal(ours.serverName ?? '', r[1]);
          assert.deepEqual([...ours.alpnOffered], list(r[2]));
          assert.equal(ours.ja3, r[3]);
          assert.equal(ours.ja3Hash, r[4]);
          assert.match(ours.ja4, /^t1[23][di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
        }
        const serverHellos = tshark(f.file, [...asTls, '-Y', 'tls.handshake.type == 2', '-e', 'tcp.dstport', '-e', 'tls.handshake.extensions.supported_version',
          '-e', 'tls.handshake.ciphersuite', '-e', 'tls.handshake.ja3s']);
        assert.equal(serverHellos.length, 2);
        for (const r of serverHellos) {
          const ours = out.tls.find((t) => t.clientPort === Number(r[0]))!;
          assert.equal(ours.serverVersion, Number(r[1]) === 0x0304 ? 'TLS 1.3' : 'TLS 1.2');
          assert.equal(ours.serverCipher, Number(r[2]));
          assert.equal(ours.ja3sHash, r[3]);
        }
        assert.equal(out.tls.filter((t) => t.serverName === 'tls.example.test').length, 1);
        assert.equal(out.tls.filter((t) => t.serverName === null).length, 1, 'the connection to an IP carried no SNI');
      });

      test('HTTP on non-standard ports: method, path, Host, User-Agent and status match', () => {
        const decodeAs = ['-d', `tcp.port==${servers.httpPort},http`, '-d', `tcp.port==${servers.http6Port},http`];
        const reqs = tshark(f.file, [...decodeAs, '-Y', 'http.request', '-e', 'tcp.srcport', '-e', 'http.request.method', '-e', 'http.request.uri',
          '-e', 'http.host', '-e', 'http.user_agent', '-e', 'http.request.version']);
        const resps = tshark(f.file, [...decodeAs, '-Y', 'http.response', '-e', 'tcp.dstport', '-e', 'http.response.code']);
        assert.equal(reqs.length, 3);
        assert.equal(out.http.length, 3);
        for (const r of reqs) {
          const ours = out.http.find((h) => h.clientPort === Number(r[0]));
          assert.ok(ours);
          assert.equal(ours.method, r[1]);
          assert.equal(ours.path, r[2]!.split('?')[0], 'the query string is not kept');
          assert.equal(ours.hasQuery, r[2]!.includes('?'));
          assert.equal(ours.host, r[3]);
          assert.equal(ours.userAgent, r[4]);
          assert.equal(ours.version, r[5]);
          assert.equal(ours.status, Number(resps.find((s) => s[0] === r[0])![1]));
        }
        assert.ok(out.http.some((h) => h.ipVersion === 6));
      });

      test('SSH banners of both sides match', () => {
        const rows = tshark(f.file, ['-d', `tcp.port==${servers.sshPort},ssh`, '-Y', 'ssh.protocol', '-e', 'tcp.srcport', '-e', 'ssh.protocol']);
        assert.equal(rows.length, 2);
        const flow = out.flows.find((fl) => fl.serverPort === servers.sshPort)!;
        assert.equal(flow.application, 'ssh');
        assert.equal(flow.sshServerBanner, rows.find((r) => Number(r[0]) === servers.sshPort)![1]);
        assert.equal(flow.sshClientBanner, rows.find((r) => Number(r[0]) !== servers.sshPort)![1]);
      });
    });
  }
});
