// The XDP-mode content filter, applied by tcpdump (libpcap's own filter engine) to a file of
// hand-built packets: it keeps DNS, TCP handshakes/teardowns, TLS handshakes and HTTP/SSH heads on
// any port, over IPv4 and IPv6, and drops bulk payload. Needs no privileges (tcpdump -r).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CONTENT_FILTER } from './content-filter.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-cfilter-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const skip = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'needs tcpdump';

const ETH4 = Buffer.from('020000000001020000000002' + '0800', 'hex');
const ETH6 = Buffer.from('020000000001020000000002' + '86dd', 'hex');

function ipv4(proto: number, l4: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + l4.length, 2);
  h[8] = 64;
  h[9] = proto;
  Buffer.from([198, 51, 100, 1, 203, 0, 113, 2]).copy(h, 12);
  return Buffer.concat([ETH4, h, l4]);
}

function ipv6(nh: number, l4: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(l4.length, 4);
  h[6] = nh;
  h[7] = 64;
  h[8] = 0x20; h[9] = 0x01; h[10] = 0x0d; h[11] = 0xb8; h[23] = 1;
  h[24] = 0x20; h[25] = 0x01; h[26] = 0x0d; h[27] = 0xb8; h[39] = 2;
  return Buffer.concat([ETH6, h, l4]);
}

function tcp(dport: number, flags: number, payload: string | Buffer): Buffer {
  const t = Buffer.alloc(20);
  t.writeUInt16BE(40000, 0);
  t.writeUInt16BE(dport, 2);
  t[12] = 0x50;
  t[13] = flags;
  return Buffer.concat([t, typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload]);
}

function udp(dport: number, payload: Buffer): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(40000, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([u, payload]);
}

const ACK = 0x10;
const PSH_ACK = 0x18;
const packets: [string, Buffer, boolean][] = [
  ['v4 SYN', ipv4(6, tcp(443, 0x02, '')), true],
  ['v4 TLS ClientHello on 8443', ipv4(6, tcp(8443, PSH_ACK, Buffer.from('160301020001', 'hex'))), true],
  ['v4 HTTP GET on 8080', ipv4(6, tcp(8080, PSH_ACK, 'GET / HTTP/1.1\r\n')), true],
  ['v4 HTTP response', ipv4(6, tcp(40001, PSH_ACK, 'HTTP/1.1 200 OK\r\n')), true],
  ['v4 SSH banner on 2222', ipv4(6, tcp(2222, PSH_ACK, 'SSH-2.0-OpenSSH_9.6\r\n')), true],
  ['v4 bulk data', ipv4(6, tcp(443, ACK, Buffer.alloc(200, 0x41))), false],
  ['v4 FIN', ipv4(6, tcp(443, 0x11, '')), true],
  ['v4 DNS', ipv4(17, udp(53, Buffer.alloc(20))), true],
  ['v4 other UDP', ipv4(17, udp(5000, Buffer.alloc(20))), false],
  ['v6 RST', ipv6(6, tcp(443, 0x04, '')), true],
  ['v6 POST on 3000', ipv6(6, tcp(3000, PSH_ACK, 'POST /api HTTP/1.1\r\n')), true],
  ['v6 TLS on 443', ipv6(6, tcp(443, PSH_ACK, Buffer.from('160303', 'hex'))), true],
  ['v6 bulk data', ipv6(6, tcp(443, ACK, Buffer.alloc(100, 0x42))), false],
  ['v6 DNS', ipv6(17, udp(53, Buffer.alloc(12))), true],
];

function pcap(frames: Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  return Buffer.concat([head, ...frames.map((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_800_000_000 + i, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  })]);
}

describe('content filter (XDP mode)', { skip }, () => {
  it('keeps exactly the packets worth decoding', () => {
    const file = join(dir, 'mix.pcap');
    writeFileSync(file, pcap(packets.map(([, p]) => p)));
    const r = spawnSync('tcpdump', ['-nr', file, '-tt', CONTENT_FILTER], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // -tt prints the epoch seconds we numbered each packet with.
    const kept = new Set(r.stdout.trim().split('\n').filter(Boolean).map((l) => Number(l.split('.')[0]) - 1_800_000_000));
    const got = packets.map(([name], i) => [name, kept.has(i)]);
    assert.deepEqual(got, packets.map(([name, , want]) => [name, want]));
  });
});
