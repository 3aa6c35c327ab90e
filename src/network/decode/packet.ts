// The decoded view of one packet. One instance is reused for every packet (decoders fill it in
// place), so the hot path allocates nothing: addresses are four u32 words (IPv4 is stored as the
// IPv4-mapped IPv6 address ::ffff:a.b.c.d) and turned into text only when a flow is written.

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface DecodedPacket {
  tsSec: number;
  tsNsec: number;
  wireLength: number;
  /** 802.1Q id of the outermost tag, -1 when untagged. */
  vlan: number;
  /** 0 when the packet carries no IP (ARP, LLDP...). */
  ipVersion: number;
  protocol: number;
  ttl: number;
  src0: number; src1: number; src2: number; src3: number;
  dst0: number; dst1: number; dst2: number; dst3: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  tcpSeq: number;
  icmpType: number;
  icmpCode: number;
  /** Bytes of the IP datagram as the wire carried them (header included). */
  ipLength: number;
  /** Set for a fragment that is not (yet) a whole datagram: no transport header was read. */
  fragment: boolean;
  /** The snap length cut the datagram short: the payload seen is less than the wire carried. */
  truncated: boolean;
  /** Where the transport payload lies: `data` is the batch buffer, or a reassembled datagram. */
  data: Buffer;
  payloadOffset: number;
  payloadLength: number;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    tsSec: 0, tsNsec: 0, wireLength: 0, vlan: -1, ipVersion: 0, protocol: 0, ttl: 0,
    src0: 0, src1: 0, src2: 0, src3: 0, dst0: 0, dst1: 0, dst2: 0, dst3: 0,
    srcPort: 0, dstPort: 0, tcpFlags: 0, tcpSeq: 0, icmpType: 0, icmpCode: 0, ipLength: 0, fragment: false, truncated: false,
    data: EMPTY, payloadOffset: 0, payloadLength: 0,
  };
}

const EMPTY = Buffer.alloc(0);

/** Text form of an address held as four u32 words (IPv4-mapped shown as dotted quad). */
export function formatAddress(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    return `${w3 >>> 24}.${(w3 >>> 16) & 0xff}.${(w3 >>> 8) & 0xff}.${w3 & 0xff}`;
  }
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

export function sourceAddress(p: DecodedPacket): string {
  return formatAddress(p.src0, p.src1, p.src2, p.src3);
}

export function destinationAddress(p: DecodedPacket): string {
  return formatAddress(p.dst0, p.dst1, p.dst2, p.dst3);
}

export function protocolName(protocol: number): string {
  switch (protocol) {
    case IPPROTO.TCP: return 'tcp';
    case IPPROTO.UDP: return 'udp';
    case IPPROTO.ICMP: return 'icmp';
    case IPPROTO.ICMPV6: return 'icmpv6';
    default: return String(protocol);
  }
}
