// Hand-built packets for decoder tests (layers the loopback cannot produce: VLAN tags, QinQ,
// fragments, IPv6 extension headers, cooked v1, raw IP) and a test-only pcap writer so tshark can
// read the same bytes. Production reads files only through the libpcap addon.
import { writeFileSync } from 'node:fs';
import { encodePacketRecord } from '../src/sources/pcap/batch-format.ts';

export const ip4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
export const ip6 = (s: string): Buffer => {
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
};

export function ethernet(type: number, payload: Buffer, tags: { tpid: number; vid: number }[] = []): Buffer {
  const mac = Buffer.from([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
  const t = tags.map(({ tpid, vid }) => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(tpid, 0);
    b.writeUInt16BE(vid, 2);
    return b;
  });
  const et = Buffer.alloc(2);
  et.writeUInt16BE(type);
  // Tag layout on the wire: TPID then TCI, next TPID then TCI..., the ethertype last.
  const chain: Buffer[] = [];
  tags.forEach((tag, i) => {
    const tp = Buffer.alloc(2);
    tp.writeUInt16BE(tag.tpid);
    const tci = t[i]!.subarray(2);
    chain.push(tp, tci);
  });
  return Buffer.concat([mac, ...chain, et, payload]);
}

export function sll(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(type, 14);
  return Buffer.concat([h, payload]);
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: { id?: number; more?: boolean; offset?: number; ttl?: number } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.more ? 1 : 0) << 13) | ((o.offset ?? 0) / 8), 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

/** IPv6 with optional extension headers given as [type, body] (body padded to 8n-2 bytes). */
export function ipv6(src: string, dst: string, proto: number, payload: Buffer, ext: { type: number; body: Buffer }[] = []): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < ext.length; i++) {
    const next = i + 1 < ext.length ? ext[i + 1]!.type : proto;
    const e = ext[i]!;
    if (e.type === 44) parts.push(Buffer.concat([Buffer.from([next, 0]), e.body]));
    else {
      const len = Math.ceil((e.body.length + 2) / 8) * 8;
      const b = Buffer.alloc(len);
      b[0] = next;
      b[1] = len / 8 - 1;
      e.body.copy(b, 2);
      parts.push(b);
    }
  }
  const body = Buffer.concat([...parts, payload]);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(body.length, 4);
  h[6] = ext.length > 0 ? ext[0]!.type : proto;
  h[7] = 64;
  ip6(src).copy(h, 8);
  ip6(dst).copy(h, 24);
  return Buffer.concat([h, body]);
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function tcp(sport: number, dport: number, flags: number, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, payload]);
}

export function icmpEcho(type: number): Buffer {
  return Buffer.from([type, 0, 0, 0, 0, 1, 0, 1, 0x61, 0x62, 0x63, 0x64]);
}

/** Writes a classic pcap (microsecond timestamps) of the given link type. */
export function writePcap(path: string, linktype: number, packets: readonly Buffer[], startSec = 1_767_225_600): void {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(linktype, 20);
  const records = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(startSec + i, 0);
    r.writeUInt32LE(1000 * i, 4);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  writeFileSync(path, Buffer.concat([header, ...records]));
}

/** The same packets as one batch (what the capture addon would deliver). */
export function batchOf(packets: readonly Buffer[], startSec = 1_767_225_600, stepSec = 1): Buffer {
  return Buffer.concat(packets.map((p, i) => encodePacketRecord(startSec + i * stepSec, 1_000_000 * (i % 1000), p)));
}
