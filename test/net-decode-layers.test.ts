// Link and network layers the loopback cannot produce (802.1Q, QinQ, IPv4 and IPv6 fragments, IPv6
// extension headers, Linux cooked v1, raw IP, ICMP/ICMPv6), built by hand, written to pcap files and
// compared with tshark frame by frame.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { newDecodeErrors, totalDecodeErrors } from '../src/network/decode/decode-errors.ts';
import { DecodeResult, PacketDecoder } from '../src/network/decode/packet-decoder.ts';
import { destinationAddress, newDecodedPacket, sourceAddress } from '../src/network/decode/packet.ts';
import { PacketAnalyzer } from '../src/network/analyzer.ts';
import { forEachPacket, LinkType } from '../src/sources/pcap/batch-format.ts';
import { dnsAnswer, dnsQuery, haveTools, tshark } from './net-decode-helpers.ts';
import { batchOf, ethernet, icmpEcho, ipv4, ipv6, sll, tcp, udp, writePcap } from './net-decode-packets.ts';

const skip = haveTools() === 'tcpdump is not installed' || haveTools()?.startsWith('tshark') ? 'tshark is not installed' : false;
const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-layers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A DNS response large enough to fragment: 3 pieces of a 1,200-byte UDP datagram.
const bigAnswer = dnsAnswer(dnsQuery(0x4242, 'frag.example.test', 1));
const bigUdp = udp(53, 40000, Buffer.concat([bigAnswer, Buffer.alloc(1200 - bigAnswer.length)]));
const fragments4 = [0, 504, 1008].map((off) => ipv4('198.51.100.53', '198.51.100.10', 17,
  bigUdp.subarray(off, Math.min(bigUdp.length, off + 504)), { id: 777, offset: off, more: off + 504 < bigUdp.length }));
const frag6 = (off: number, more: boolean, piece: Buffer) => {
  const body = Buffer.alloc(6);
  body.writeUInt16BE(off | (more ? 1 : 0), 0);
  body.writeUInt32BE(0xabcdef, 2);
  return { type: 44, body };
};
const v6Udp = udp(5353, 5353, dnsQuery(0x1111, 'printer.local', 28));
const v6Pieces = [v6Udp.subarray(0, 16), v6Udp.subarray(16)];

const ethernetPackets = [
  // QinQ: outer 802.1ad tag 100, inner 802.1Q tag 200, then IPv4/UDP DNS.
  ethernet(0x0800, ipv4('203.0.113.5', '203.0.113.53', 17, udp(40001, 53, dnsQuery(1, 'qinq.example.test', 1)))
  , [{ tpid: 0x88a8, vid: 100 }, { tpid: 0x8100, vid: 200 }]),
  // 802.1Q tag 42, IPv6 with hop-by-hop and destination options before TCP.
  ethernet(0x86dd, ipv6('2001:db8::1', '2001:db8::2', 6, tcp(40002, 8443, 0x02, 1000), [{ type: 0, body: Buffer.alloc(4) }, { type: 60, body: Buffer.alloc(12) }])
  , [{ tpid: 0x8100, vid: 42 }]),
  ...fragments4.map((f) => ethernet(0x0800, f)),
  ...v6Pieces.map((piece, i) => ethernet(0x86dd, ipv6('fe80::1', 'ff02::fb', 17, piece, [frag6(i === 0 ? 0 : 16, i === 0, piece)]))),
  ethernet(0x86dd, ipv6('2001:db8::1', '2001:db8::2', 58, icmpEcho(128))),
  ethernet(0x0806, Buffer.alloc(28)), // ARP: not IP, not an error
];
const sllPackets = [sll(0x0800, ipv4('198.51.100.1', '198.51.100.2', 1, icmpEcho(8))), sll(0x0800, ipv4('198.51.100.2', '198.51.100.1', 1, icmpEcho(0)))];
// BSD loopback (DLT_NULL): a 4-byte address family in the capturing host's order (2 = IPv4, 30 = IPv6 on macOS).
const nullPackets = [Buffer.concat([Buffer.from([2, 0, 0, 0]), ipv4('127.0.0.1', '127.0.0.1', 17, udp(5000, 5001, Buffer.from('hi')))]),
  Buffer.concat([Buffer.from([0, 0, 0, 30]), ipv6('::1', '::1', 6, tcp(40010, 8080, 0x02, 9))])];
const rawPackets = [ipv4('192.0.2.1', '198.51.100.80', 6, tcp(40003, 8000, 0x18, 5, Buffer.from('GET /raw HTTP/1.1\r\nHost: raw.example.test\r\n\r\n')))];

interface Ours { vlan: number; src: string; dst: string; sport: number; dport: number; proto: number; icmp: number; fragment: boolean }

function decodeAll(linktype: number, packets: readonly Buffer[]): (Ours | null)[] {
  const errors = newDecodeErrors();
  const decoder = new PacketDecoder(errors);
  const p = newDecodedPacket();
  const out: (Ours | null)[] = [];
  const batch = batchOf(packets);
  forEachPacket(batch, (ref) => {
    p.tsSec = ref.tsSec;
    const r = decoder.decode(linktype, batch, ref.offset, ref.capturedLength, p);
    out.push(r === DecodeResult.IP ? { vlan: p.vlan, src: sourceAddress(p), dst: destinationAddress(p), sport: p.srcPort, dport: p.dstPort,
      proto: p.protocol, icmp: p.icmpType, fragment: p.fragment } : null);
  });
  assert.equal(totalDecodeErrors(errors), 0);
  return out;
}

function compare(file: string, linktype: number, packets: readonly Buffer[]): void {
  writePcap(file, linktype, packets);
  const rows = tshark(file, ['-o', 'ip.defragment:TRUE', '-e', 'ieee8021ad.id', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst',
    '-e', 'udp.srcport', '-e', 'tcp.srcport', '-e', 'udp.dstport', '-e', 'tcp.dstport', '-e', 'icmp.type', '-e', 'icmpv6.type', '-e', 'vlan.id']);
  const ours = decodeAll(linktype, packets);
  assert.equal(rows.length, ours.length);
  rows.forEach((r, i) => {
    const o = ours[i];
    const src = (r[1] || r[2])!.split(',').pop()!;
    if (src === '') {
      assert.equal(o, null, `frame ${i + 1} is not IP`);
      return;
    }
    assert.ok(o, `frame ${i + 1} decoded`);
    assert.equal(o.vlan, r[0] !== '' ? Number(r[0]) : r[11] !== '' ? Number(r[11]!.split(',')[0]) : -1, `frame ${i + 1} outer vlan`);
    assert.equal(o.src, src);
    assert.equal(o.dst, (r[3] || r[4])!.split(',').pop());
    const sport = r[5] || r[6];
    if (sport) {
      assert.equal(o.fragment, false, `frame ${i + 1} completes its datagram`);
      assert.equal(o.sport, Number(sport));
      assert.equal(o.dport, Number(r[7] || r[8]));
    } else if (r[9] || r[10]) {
      assert.equal(o.icmp, Number(r[9] || r[10]));
    } else {
      assert.equal(o.fragment, true, `frame ${i + 1} is a fragment awaiting the rest`);
    }
  });
}

describe('link and network layers match tshark', { skip }, () => {
  test('Ethernet: QinQ, 802.1Q, IPv6 extension headers, IPv4 and IPv6 fragments, ICMPv6, ARP', () => {
    compare(join(dir, 'eth.pcap'), LinkType.EN10MB, ethernetPackets);
  });
  test('Linux cooked capture v1 with ICMP', () => compare(join(dir, 'sll.pcap'), LinkType.LINUX_SLL, sllPackets));
  test('raw IP', () => compare(join(dir, 'raw.pcap'), LinkType.RAW, rawPackets));
  test('BSD loopback (NULL), either byte order', () => compare(join(dir, 'null.pcap'), LinkType.NULL, nullPackets));
});

test('a fragmented DNS response is reassembled and decoded; HTTP over raw IP is recognised', () => {
  const a = new PacketAnalyzer();
  a.ingest({ linktype: LinkType.EN10MB, data: batchOf(ethernetPackets) });
  a.ingest({ linktype: LinkType.RAW, data: batchOf(rawPackets) });
  a.flush();
  const out = a.drain();
  assert.equal(a.fragmentsReassembled, 2);
  assert.ok(out.dns.some((d) => d.queryName === 'frag.example.test' && d.answerCount === 2 && d.responseCode === 'NOERROR'));
  assert.ok(out.dns.some((d) => d.queryName === 'printer.local' && d.queryType === 'AAAA'));
  assert.ok(out.dns.some((d) => d.queryName === 'qinq.example.test' && d.responseCode === null));
  assert.deepEqual(out.http.map((h) => [h.host, h.path]), [['raw.example.test', '/raw']]);
  assert.equal(out.flows.find((f) => f.serverPort === 53 && f.clientAddress === '203.0.113.5')?.vlan, 100);
});

test('overlapping fragments are refused and counted, the table of pending datagrams is bounded', () => {
  const a = new PacketAnalyzer();
  const payload = Buffer.alloc(64, 1);
  const pkts = [ipv4('192.0.2.9', '192.0.2.10', 17, payload, { id: 5, more: true, offset: 0 }), ipv4('192.0.2.9', '192.0.2.10', 17, payload, { id: 5, more: false, offset: 32 })];
  for (let id = 0; id < 400; id++) pkts.push(ipv4('192.0.2.11', '192.0.2.10', 17, payload, { id: 1000 + id, more: true, offset: 0 }));
  a.ingest({ linktype: LinkType.RAW, data: batchOf(pkts, 1_767_225_600, 0) });
  assert.equal(a.errors.fragment_overlap, 1);
  assert.equal(a.errors.fragment_table_full, 400 - 256);
  assert.equal(a.fragmentsReassembled, 0);
});
