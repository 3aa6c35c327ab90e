// Decodes XDP/TC flow-accounting records (native/xdp/flow.h: struct de_flow_key + struct de_flow_val,
// 80 bytes, little-endian host layout). The offsets here are checked against the addon's layout()
// by flow-records.test.ts, so the C struct and this decoder cannot drift apart silently.
import { isIP } from 'node:net';

export const FLOW_RECORD_BYTES = 80;

/** Byte offsets in one record (mirrors native/xdp/flow.h). */
export const FlowRecordLayout = {
  family: 0, proto: 1, vlan: 2, sport: 4, dport: 6, saddr: 8, daddr: 24,
  packets: 40, bytes: 48, first_ns: 56, last_ns: 64, tcp_flags: 72, dirs: 73,
} as const;

/** Which hooks saw a flow: XDP on receive, TC on transmit (FlowCounter.directions). */
export const FlowDirection = { INGRESS: 1, EGRESS: 2 } as const;

/**
 * Counters of one direction of a flow (addresses as on the wire: received packets have the remote
 * end as source, sent ones the local end), cumulative since first seen. The flow table pairs the
 * two directions by swapping the endpoints.
 */
export interface FlowCounter {
  readonly family: 4 | 6;
  readonly protocol: number;
  readonly vlan: number;
  readonly srcAddr: string;
  readonly dstAddr: string;
  /** Host order; for ICMP the type. */
  readonly srcPort: number;
  /** Host order; for ICMP the code. */
  readonly dstPort: number;
  readonly packets: number;
  /** Layer-2 bytes as received. */
  readonly bytes: number;
  /** Wall clock, ms since the epoch (converted from CLOCK_BOOTTIME with the collector's anchor). */
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** OR of the TCP flags of every packet (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ...). */
  readonly tcpFlags: number;
  /** FlowDirection bits: 1 received (XDP), 2 sent (TC egress). */
  readonly directions: number;
}

/** CLOCK_BOOTTIME and the wall clock read together (the collector's HELLO carries one). */
export interface BootClockAnchor {
  readonly boottimeNs: bigint;
  readonly wallMs: number;
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = Math.max(i, j);
  }
  const text = best < 0 ? groups.join(':') : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  return isIP(text) === 6 ? text : groups.join(':');
}

/**
 * Decodes a FLOWS payload. Records with an unknown family are counted in `bad`, never thrown;
 * a trailing partial record is counted too.
 */
export function decodeFlowRecords(buf: Buffer, anchor: BootClockAnchor): { flows: FlowCounter[]; bad: number } {
  const flows: FlowCounter[] = [];
  let bad = buf.length % FLOW_RECORD_BYTES === 0 ? 0 : 1;
  const toMs = (ns: bigint): number => anchor.wallMs + Number(ns - anchor.boottimeNs) / 1e6;
  for (let at = 0; at + FLOW_RECORD_BYTES <= buf.length; at += FLOW_RECORD_BYTES) {
    const family = buf[at + FlowRecordLayout.family];
    if (family !== 4 && family !== 6) {
      bad++;
      continue;
    }
    const addr = family === 4 ? ipv4 : ipv6;
    flows.push({
      family,
      protocol: buf[at + FlowRecordLayout.proto]!,
      vlan: buf.readUInt16LE(at + FlowRecordLayout.vlan),
      srcAddr: addr(buf, at + FlowRecordLayout.saddr),
      dstAddr: addr(buf, at + FlowRecordLayout.daddr),
      srcPort: buf.readUInt16LE(at + FlowRecordLayout.sport),
      dstPort: buf.readUInt16LE(at + FlowRecordLayout.dport),
      packets: Number(buf.readBigUInt64LE(at + FlowRecordLayout.packets)),
      bytes: Number(buf.readBigUInt64LE(at + FlowRecordLayout.bytes)),
      firstSeenMs: toMs(buf.readBigUInt64LE(at + FlowRecordLayout.first_ns)),
      lastSeenMs: toMs(buf.readBigUInt64LE(at + FlowRecordLayout.last_ns)),
      tcpFlags: buf[at + FlowRecordLayout.tcp_flags]!,
      directions: buf[at + FlowRecordLayout.dirs]!,
    });
  }
  return { flows, bad };
}
