// The flow record decoder on hand-built records (IPv4, IPv6 with zero-run compression, VLAN,
// ICMP type/code) and on hostile payloads: it counts bad records and never throws.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFlowRecords, FLOW_RECORD_BYTES, FlowRecordLayout as L } from './flow-records.ts';

function record(f: { family: number; proto: number; vlan?: number; sport: number; dport: number; saddr: number[]; daddr: number[]; packets: bigint; bytes: bigint; first: bigint; last: bigint; flags?: number; dirs?: number }): Buffer {
  const b = Buffer.alloc(FLOW_RECORD_BYTES);
  b[L.family] = f.family;
  b[L.proto] = f.proto;
  b.writeUInt16LE(f.vlan ?? 0, L.vlan);
  b.writeUInt16LE(f.sport, L.sport);
  b.writeUInt16LE(f.dport, L.dport);
  Buffer.from(f.saddr).copy(b, L.saddr);
  Buffer.from(f.daddr).copy(b, L.daddr);
  b.writeBigUInt64LE(f.packets, L.packets);
  b.writeBigUInt64LE(f.bytes, L.bytes);
  b.writeBigUInt64LE(f.first, L.first_ns);
  b.writeBigUInt64LE(f.last, L.last_ns);
  b[L.tcp_flags] = f.flags ?? 0;
  b[L.dirs] = f.dirs ?? 1;
  return b;
}

const anchor = { boottimeNs: 10_000_000_000n, wallMs: 1_800_000_000_000 };

describe('flow records', () => {
  it('decodes IPv4 and IPv6 records with wall-clock times', () => {
    const v6src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const v6dst = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55];
    const buf = Buffer.concat([
      record({ family: 4, proto: 6, vlan: 42, sport: 51000, dport: 443, saddr: [198, 51, 100, 7], daddr: [203, 0, 113, 9], packets: 10n, bytes: 1500n, first: 9_000_000_000n, last: 9_500_000_000n, flags: 0x12, dirs: 3 }),
      record({ family: 6, proto: 58, sport: 128, dport: 0, saddr: v6src, daddr: v6dst, packets: 1n, bytes: 118n, first: 10_000_000_000n, last: 10_000_000_000n }),
    ]);
    const { flows, bad } = decodeFlowRecords(buf, anchor);
    assert.equal(bad, 0);
    assert.deepEqual(flows[0], {
      family: 4, protocol: 6, vlan: 42, srcAddr: '198.51.100.7', dstAddr: '203.0.113.9', srcPort: 51000, dstPort: 443,
      packets: 10, bytes: 1500, firstSeenMs: anchor.wallMs - 1000, lastSeenMs: anchor.wallMs - 500, tcpFlags: 0x12, directions: 3,
    });
    assert.equal(flows[1]!.srcAddr, '2001:db8::1');
    assert.equal(flows[1]!.dstAddr, 'fe80::211:22ff:fe33:4455');
    assert.equal(flows[1]!.srcPort, 128, 'ICMPv6 echo request: type in srcPort');
    assert.equal(flows[1]!.lastSeenMs, anchor.wallMs);
  });

  it('counts records of an unknown family and a trailing partial record, never throwing', () => {
    const good = record({ family: 4, proto: 17, sport: 1, dport: 2, saddr: [1, 2, 3, 4], daddr: [5, 6, 7, 8], packets: 1n, bytes: 60n, first: 1n, last: 1n });
    const badFamily = Buffer.from(good);
    badFamily[L.family] = 9;
    const { flows, bad } = decodeFlowRecords(Buffer.concat([good, badFamily, good.subarray(0, 30)]), anchor);
    assert.equal(flows.length, 1);
    assert.equal(bad, 2);
    let seed = 99;
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc((i * 7) % 400);
      for (let k = 0; k < junk.length; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        junk[k] = seed & 0xff;
      }
      assert.doesNotThrow(() => decodeFlowRecords(junk, anchor));
    }
  });
});
