// Payloads that span packets: a ClientHello split over three TCP segments (as post-quantum key
// shares make it on a 1500-byte MTU) is gathered and fingerprinted like a whole one; a retransmitted
// segment is ignored; keep-alive connections carry several HTTP requests, each paired with its
// status in order.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { PacketAnalyzer } from '../src/network/analyzer.ts';
import { newDecodeErrors } from '../src/network/decode/decode-errors.ts';
import { decodeClientHello } from '../src/network/decode/tls.ts';
import { LinkType } from '../src/sources/pcap/batch-format.ts';
import { batchOf, ipv4, tcp } from './net-decode-packets.ts';

async function realClientHello(): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = once(server, 'connection').then(async ([s]) => (await once(s, 'data'))[0] as Buffer);
  const c = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'split.example.test', ALPNProtocols: ['h2', 'http/1.1'] });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

const C = (seq: number, flags: number, data?: Buffer) => ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40000, 443, flags, seq, data));

test('a ClientHello split over three segments (with a retransmission) is gathered and fingerprinted as a whole', async () => {
  const hello = await realClientHello();
  const whole = decodeClientHello(hello, 0, hello.length, newDecodeErrors())!;
  const cut1 = 100, cut2 = Math.floor(hello.length / 2);
  const a = new PacketAnalyzer();
  a.ingest({ linktype: LinkType.RAW, data: batchOf([
    C(1000, 0x02),
    C(1001, 0x18, hello.subarray(0, cut1)),
    C(1001, 0x18, hello.subarray(0, cut1)), // retransmission
    C(1001 + cut1, 0x18, hello.subarray(cut1, cut2)),
    C(1001 + cut2, 0x18, hello.subarray(cut2)),
  ], 1_767_225_600, 0) });
  a.flush();
  const [tls] = a.drain().tls;
  assert.ok(tls);
  assert.equal(tls.serverName, 'split.example.test');
  assert.deepEqual([...tls.alpnOffered], ['h2', 'http/1.1']);
  assert.equal(tls.ja3Hash, whole.ja3Hash);
  assert.equal(tls.ja4, whole.ja4);
});

test('segments out of order end the gathering: what arrived is decoded as far as it goes, nothing throws', async () => {
  const hello = await realClientHello();
  const a = new PacketAnalyzer();
  a.ingest({ linktype: LinkType.RAW, data: batchOf([
    C(1000, 0x02), C(1001, 0x18, hello.subarray(0, 200)), C(1001 + 400, 0x18, hello.subarray(400)),
  ], 1_767_225_600, 0) });
  a.flush();
  const out = a.drain();
  assert.equal(out.flows.length, 1);
  // SNI sits early in Node's hello, so even the truncated hello usually yields it; it must not be invented.
  for (const t of out.tls) {
    assert.ok(t.serverName === null || t.serverName === 'split.example.test');
    assert.deepEqual([t.ja3, t.ja3Hash, t.ja4], ['', '', ''], 'no fingerprint from part of a hello');
  }
});

test('keep-alive: three requests on one connection, each paired with its response status', () => {
  const S = (seq: number, data: Buffer) => ipv4('198.51.100.10', '10.0.0.5', 6, tcp(8080, 40001, 0x18, seq, data));
  const Q = (seq: number, data: Buffer) => ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40001, 8080, 0x18, seq, data));
  const req = (p: string) => Buffer.from(`GET ${p} HTTP/1.1\r\nHost: ka.example.test\r\nUser-Agent: ka/1\r\n\r\n`);
  const res = (code: number) => Buffer.from(`HTTP/1.1 ${code} X\r\nContent-Length: 0\r\n\r\n`);
  const a = new PacketAnalyzer();
  a.ingest({ linktype: LinkType.RAW, data: batchOf([
    ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40001, 8080, 0x02, 1)),
    Q(2, req('/one')), S(1, res(200)), Q(3, req('/two')), S(2, res(304)), Q(4, req('/three')), S(3, res(404)),
  ], 1_767_225_600, 0) });
  a.flush();
  assert.deepEqual(a.drain().http.map((h) => [h.path, h.status]), [['/one', 200], ['/two', 304], ['/three', 404]]);
});
