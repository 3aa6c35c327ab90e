// Hostile packets: random bytes and mutations (bit flips, truncation, byte splices, length fields
// set to extremes) of valid DNS, TLS, HTTP, SSH, VLAN, fragment and IPv6 packets go through the
// whole analyzer under every link type. It must never throw, and malformed input must be counted.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { PacketAnalyzer } from '../src/network/analyzer.ts';
import { totalDecodeErrors } from '../src/network/decode/decode-errors.ts';
import { decodeDns } from '../src/network/decode/dns.ts';
import { decodeHttpRequest, decodeHttpResponse } from '../src/network/decode/http.ts';
import { decodeSshBanner } from '../src/network/decode/ssh.ts';
import { decodeClientHello, decodeServerHello } from '../src/network/decode/tls.ts';
import { newDecodeErrors } from '../src/network/decode/decode-errors.ts';
import { LinkType, encodePacketRecord } from '../src/sources/pcap/batch-format.ts';
import { dnsAnswer, dnsQuery } from './net-decode-helpers.ts';
import { ethernet, ipv4, ipv6, sll, tcp, udp } from './net-decode-packets.ts';

/** xorshift32: reproducible runs (the seed is printed on failure). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

/** A real ClientHello, as Node's TLS stack sends it (SNI, ALPN, GREASE-free, key shares). */
async function realClientHello(): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = once(server, 'connection').then(async ([s]) => (await once(s, 'data'))[0] as Buffer);
  const c = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'fuzz.example.test', ALPNProtocols: ['h2'] });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

function mutate(base: Buffer, r: () => number): Buffer {
  const b = Buffer.from(base);
  const kind = Math.floor(r() * 5);
  if (kind === 0) { // bit flips
    for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
    return b;
  }
  if (kind === 1) return b.subarray(0, Math.floor(r() * b.length)); // truncation
  if (kind === 2) { // a length-ish field set to an extreme
    const at = Math.floor(r() * Math.max(1, b.length - 1));
    b.writeUInt16BE(r() < 0.5 ? 0xffff : 0, at);
    return b;
  }
  if (kind === 3) { // random bytes spliced in
    const at = Math.floor(r() * b.length);
    const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 32) }, () => Math.floor(r() * 256)));
    return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
  }
  for (let i = 0; i < b.length; i++) if (r() < 0.05) b[i] = Math.floor(r() * 256);
  return b;
}

test('the analyzer survives random and mutated packets under every link type, counting what it rejects', async () => {
  const hello = await realClientHello();
  const l4 = [
    ipv4('198.51.100.1', '198.51.100.53', 17, udp(40000, 53, dnsQuery(7, 'fuzz.example.test', 1))),
    ipv4('198.51.100.53', '198.51.100.1', 17, udp(53, 40000, dnsAnswer(dnsQuery(7, 'www.fuzz.example.test', 1)))),
    ipv4('198.51.100.1', '198.51.100.2', 6, tcp(40001, 443, 0x18, 1, hello)),
    ipv4('198.51.100.1', '198.51.100.2', 6, tcp(40002, 8080, 0x18, 1, Buffer.from('GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\n\r\n'))),
    ipv4('198.51.100.2', '198.51.100.1', 6, tcp(8080, 40002, 0x18, 1, Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))),
    ipv4('198.51.100.2', '198.51.100.1', 6, tcp(22, 40003, 0x18, 1, Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))),
    ipv4('198.51.100.1', '198.51.100.2', 6, tcp(40004, 53, 0x18, 1, Buffer.concat([Buffer.from([0, 35]), dnsQuery(9, 'tcp.fuzz.test', 1)]))),
    ipv4('198.51.100.1', '198.51.100.2', 17, udp(1, 2, Buffer.alloc(40)), { id: 9, more: true }),
    ipv6('2001:db8::1', '2001:db8::2', 6, tcp(40005, 443, 0x18, 1, hello), [{ type: 0, body: Buffer.alloc(4) }]),
  ];
  const framings: [number, (b: Buffer) => Buffer][] = [
    [LinkType.EN10MB, (b) => ethernet(b[0]! >> 4 === 6 ? 0x86dd : 0x0800, b, [{ tpid: 0x8100, vid: 7 }])],
    [LinkType.EN10MB, (b) => ethernet(b[0]! >> 4 === 6 ? 0x86dd : 0x0800, b)],
    [LinkType.LINUX_SLL, (b) => sll(b[0]! >> 4 === 6 ? 0x86dd : 0x0800, b)],
    [LinkType.RAW, (b) => b],
    [LinkType.LINUX_SLL2, (b) => Buffer.concat([Buffer.from([b[0]! >> 4 === 6 ? 0x86 : 0x08, b[0]! >> 4 === 6 ? 0xdd : 0x00]), Buffer.alloc(18), b])],
  ];
  const seed = 0xdaec0de;
  const r = rng(seed);
  const analyzer = new PacketAnalyzer({ maxFlows: 1000 });
  let packets = 0;
  for (const [linktype, frame] of framings) {
    const records: Buffer[] = [];
    for (let i = 0; i < 6000; i++) {
      const base = frame(l4[Math.floor(r() * l4.length)]!);
      const pkt = r() < 0.1 ? Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256))) : mutate(base, r);
      records.push(encodePacketRecord(1_767_225_600 + Math.floor(i / 100), 0, pkt));
    }
    packets += records.length;
    assert.doesNotThrow(() => analyzer.ingest({ linktype, data: Buffer.concat(records) }), `seed ${seed}`);
  }
  // A batch cut in the middle of a record is counted as truncated, not thrown.
  assert.doesNotThrow(() => analyzer.ingest({ linktype: LinkType.RAW, data: encodePacketRecord(0, 0, l4[0]!).subarray(0, 30) }));
  assert.doesNotThrow(() => analyzer.flush());
  analyzer.drain();
  assert.equal(analyzer.counters.packets, packets);
  assert.equal(analyzer.errors.batch_truncated, 1);
  assert.ok(totalDecodeErrors(analyzer.errors) > 1000, 'malformed packets are counted');
  for (const reason of ['ipv4_bad_header_length', 'tcp_bad_offset', 'dns_short', 'tls_short'] as const) {
    assert.ok(analyzer.errors[reason] > 0, `${reason} was counted`);
  }
});

test('application decoders never throw on random or mutated payloads', async () => {
  const hello = await realClientHello();
  const bases = [hello, dnsAnswer(dnsQuery(1, 'www.example.test', 1)), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from('HTTP/1.1 404 Not Found\r\n'), Buffer.from('SSH-2.0-x y\r\n')];
  const r = rng(42);
  const errors = newDecodeErrors();
  for (let i = 0; i < 20_000; i++) {
    const b = r() < 0.2 ? Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256))) : mutate(bases[i % bases.length]!, r);
    assert.doesNotThrow(() => {
      decodeDns(b, 0, b.length, errors);
      decodeClientHello(b, 0, b.length, errors);
      decodeServerHello(b, 0, b.length, errors);
      decodeHttpRequest(b, 0, b.length, errors);
      decodeHttpResponse(b, 0, b.length);
      decodeSshBanner(b, 0, b.length, errors);
    }, `iteration ${i}`);
  }
  assert.ok(totalDecodeErrors(errors) > 0);
});
