// Link, network and transport layers, read straight from the batch buffer into a reused
// DecodedPacket. Every length is checked against what was captured before it is read: a short or
// lying header is counted by reason and the packet is reported as not decoded, never thrown.
import { LinkType } from '../../sources/pcap/batch-format.ts';
import type { DecodeErrors } from './decode-errors.ts';
import { FragmentReassembler } from './fragments.ts';
import { IPPROTO, type DecodedPacket } from './packet.ts';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
/** Further DLT numbers that mean "raw IP" (pcap-linktype(7)). */
const LINKTYPE_RAW_ALT = 12;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

export const DecodeResult = { NOT_IP: 0, IP: 1, ERROR: 2 } as const;

/** DLT numbers `decode` reads (anything else counts every packet as link_unsupported). */
export function isDecodedLinkType(linktype: number): boolean {
  return linktype === LinkType.EN10MB || linktype === LinkType.LINUX_SLL || linktype === LinkType.LINUX_SLL2 || linktype === LinkType.RAW
    || linktype === LINKTYPE_RAW_ALT || linktype === LINKTYPE_IPV4 || linktype === LINKTYPE_IPV6 || linktype === LinkType.NULL;
}

export class PacketDecoder {
  readonly errors: DecodeErrors;
  readonly #fragments: FragmentReassembler;

  constructor(errors: DecodeErrors) {
    this.errors = errors;
    this.#fragments = new FragmentReassembler(errors);
  }

  get fragmentsReassembled(): number {
    return this.#fragments.completed;
  }

  /**
   * Decodes the packet at data[offset, offset+length) of the given link type into `p`.
   * Returns DecodeResult.IP when `p` holds an IP packet (its transport fields are valid unless
   * `p.fragment`), NOT_IP for other frames (ARP...), ERROR for malformed ones (counted).
   */
  decode(linktype: number, data: Buffer, offset: number, length: number, p: DecodedPacket): number {
    p.vlan = -1;
    p.ipVersion = 0;
    p.protocol = 0;
    p.srcPort = 0;
    p.dstPort = 0;
    p.tcpFlags = 0;
    p.fragment = false;
    p.truncated = false;
    p.data = data;
    p.payloadOffset = 0;
    p.payloadLength = 0;
    const end = offset + length;
    let at = offset;
    let ethertype: number;
    switch (linktype) {
      case LinkType.EN10MB: {
        if (length < 14) return this.#fail('link_short');
        ethertype = (data[at + 12]! << 8) | data[at + 13]!;
        at += 14;
        // 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100: up to four stacked tags.
        for (let tags = 0; ethertype === ETH_VLAN || ethertype === ETH_QINQ || ethertype === ETH_QINQ_OLD; tags++) {
          if (tags === 4 || at + 4 > end) return this.#fail('vlan_short');
          if (p.vlan < 0) p.vlan = ((data[at]! << 8) | data[at + 1]!) & 0x0fff;
          ethertype = (data[at + 2]! << 8) | data[at + 3]!;
          at += 4;
        }
        break;
      }
      case LinkType.LINUX_SLL:
        if (length < 16) return this.#fail('link_short');
        ethertype = (data[at + 14]! << 8) | data[at + 15]!;
        at += 16;
        break;
      case LinkType.LINUX_SLL2:
        if (length < 20) return this.#fail('link_short');
        ethertype = (data[at]! << 8) | data[at + 1]!;
        at += 20;
        break;
      case LinkType.RAW:
      case LINKTYPE_RAW_ALT:
      case LINKTYPE_IPV4:
      case LINKTYPE_IPV6:
        if (length < 1) return this.#fail('link_short');
        ethertype = data[at]! >> 4 === 6 ? ETH_IPV6 : ETH_IPV4;
        break;
      case LinkType.NULL: {
        if (length < 4) return this.#fail('link_short');
        // The family is in the capturing host's byte order: accept either.
        const fam = data[at]! | data[at + 1]! | data[at + 2]! | data[at + 3]!;
        ethertype = fam === 2 ? ETH_IPV4 : fam === 24 || fam === 28 || fam === 30 ? ETH_IPV6 : 0;
        at += 4;
        break;
      }
      default:
        return this.#fail('link_unsupported');
    }
    if (ethertype === ETH_IPV4) return this.#ipv4(data, at, end, p);
    if (ethertype === ETH_IPV6) return this.#ipv6(data, at, end, p);
    return DecodeResult.NOT_IP;
  }

  #fail(reason: keyof DecodeErrors): number {
    this.errors[reason]++;
    return DecodeResult.ERROR;
  }

  #ipv4(d: Buffer, at: number, end: number, p: DecodedPacket): number {
    if (at + 20 > end) return this.#fail('ipv4_short');
    const vihl = d[at]!;
    if (vihl >> 4 !== 4) return this.#fail('ip_version_mismatch');
    const ihl = (vihl & 0x0f) * 4;
    if (ihl < 20 || at + ihl > end) return this.#fail('ipv4_bad_header_length');
    const total = (d[at + 2]! << 8) | d[at + 3]!;
    if (total < ihl) return this.#fail('ipv4_bad_total_length');
    p.ipVersion = 4;
    p.ipLength = total;
    p.ttl = d[at + 8]!;
    p.protocol = d[at + 9]!;
    p.src0 = 0; p.src1 = 0; p.src2 = 0xffff;
    p.src3 = ((d[at + 12]! << 24) | (d[at + 13]! << 16) | (d[at + 14]! << 8) | d[at + 15]!) >>> 0;
    p.dst0 = 0; p.dst1 = 0; p.dst2 = 0xffff;
    p.dst3 = ((d[at + 16]! << 24) | (d[at + 17]! << 16) | (d[at + 18]! << 8) | d[at + 19]!) >>> 0;
    // Ethernet pads short frames and snaplen truncates long ones: trust the smaller of the two.
    const ipEnd = Math.min(end, at + total);
    p.truncated = end < at + total;
    const flagsFrag = (d[at + 6]! << 8) | d[at + 7]!;
    const more = (flagsFrag & 0x2000) !== 0;
    const fragOffset = (flagsFrag & 0x1fff) * 8;
    if (more || fragOffset !== 0) {
      const id = (d[at + 4]! << 8) | d[at + 5]!;
      const key = `4|${p.src3}|${p.dst3}|${id}|${p.protocol}`;
      const whole = this.#fragments.add(key, p.tsSec, fragOffset, more, d, at + ihl, ipEnd - (at + ihl));
      if (whole === null) {
        p.fragment = true;
        return DecodeResult.IP;
      }
      return this.#transport(whole, 0, whole.length, p);
    }
    return this.#transport(d, at + ihl, ipEnd, p);
  }

  #ipv6(d: Buffer, at: number, end: number, p: DecodedPacket): number {
    if (at + 40 > end) return this.#fail('ipv6_short');
    if (d[at]! >> 4 !== 6) return this.#fail('ip_version_mismatch');
    const payloadLen = (d[at + 4]! << 8) | d[at + 5]!;
    p.ipVersion = 6;
    p.ipLength = payloadLen + 40;
    p.ttl = d[at + 7]!;
    p.src0 = d.readUInt32BE(at + 8); p.src1 = d.readUInt32BE(at + 12); p.src2 = d.readUInt32BE(at + 16); p.src3 = d.readUInt32BE(at + 20);
    p.dst0 = d.readUInt32BE(at + 24); p.dst1 = d.readUInt32BE(at + 28); p.dst2 = d.readUInt32BE(at + 32); p.dst3 = d.readUInt32BE(at + 36);
    // A zero payload length means a jumbogram (RFC 2675): fall back to what was captured.
    const ipEnd = payloadLen === 0 ? end : Math.min(end, at + 40 + payloadLen);
    p.truncated = payloadLen !== 0 && end < at + 40 + payloadLen;
    let next = d[at + 6]!;
    let cur = at + 40;
    // Extension headers: hop-by-hop (0), routing (43), fragment (44), destination options (60),
    // AH (51, length in 4-byte units), mobility (135). At most 8 so a chain cannot loop long.
    for (let n = 0; n < 8; n++) {
      if (next === 0 || next === 43 || next === 60 || next === 135 || next === 51) {
        if (cur + 8 > ipEnd) return this.#fail('ipv6_ext_short');
        const len = next === 51 ? (d[cur + 1]! + 2) * 4 : (d[cur + 1]! + 1) * 8;
        next = d[cur]!;
        cur += len;
        if (cur > ipEnd) return this.#fail('ipv6_ext_short');
        continue;
      }
      if (next === 44) {
        if (cur + 8 > ipEnd) return this.#fail('ipv6_ext_short');
        const fragNext = d[cur]!;
        const offMore = (d[cur + 2]! << 8) | d[cur + 3]!;
        const id = d.readUInt32BE(cur + 4);
        const fragOffset = offMore & 0xfff8;
        const more = (offMore & 1) !== 0;
        p.protocol = fragNext;
        if (!more && fragOffset === 0) { // an atomic fragment (RFC 6946): just skip the header
          next = fragNext;
          cur += 8;
          continue;
        }
        const key = `6|${p.src0}|${p.src1}|${p.src2}|${p.src3}|${p.dst0}|${p.dst1}|${p.dst2}|${p.dst3}|${id}`;
        const whole = this.#fragments.add(key, p.tsSec, fragOffset, more, d, cur + 8, ipEnd - (cur + 8));
        if (whole === null) {
          p.fragment = true;
          return DecodeResult.IP;
        }
        // Any further extension headers sit inside the reassembled payload; transports are what we need.
        return this.#transport(whole, 0, whole.length, p);
      }
      break;
    }
    p.protocol = next;
    return this.#transport(d, cur, ipEnd, p);
  }

  #transport(d: Buffer, at: number, end: number, p: DecodedPacket): number {
    p.data = d;
    switch (p.protocol) {
      case IPPROTO.TCP: {
        if (at + 20 > end) return this.#fail('tcp_short');
        const off = (d[at + 12]! >> 4) * 4;
        if (off < 20 || at + off > end) return this.#fail('tcp_bad_offset');
        p.srcPort = (d[at]! << 8) | d[at + 1]!;
        p.dstPort = (d[at + 2]! << 8) | d[at + 3]!;
        p.tcpSeq = d.readUInt32BE(at + 4);
        p.tcpFlags = d[at + 13]!;
        p.payloadOffset = at + off;
        p.payloadLength = end - (at + off);
        return DecodeResult.IP;
      }
      case IPPROTO.UDP: {
        if (at + 8 > end) return this.#fail('udp_short');
        const len = (d[at + 4]! << 8) | d[at + 5]!;
        if (len < 8) return this.#fail('udp_bad_length');
        p.srcPort = (d[at]! << 8) | d[at + 1]!;
        p.dstPort = (d[at + 2]! << 8) | d[at + 3]!;
        p.payloadOffset = at + 8;
        p.payloadLength = Math.min(end, at + len) - (at + 8);
        return DecodeResult.IP;
      }
      case IPPROTO.ICMP:
      case IPPROTO.ICMPV6:
        if (at + 4 > end) return this.#fail('icmp_short');
        p.icmpType = d[at]!;
        p.icmpCode = d[at + 1]!;
        p.payloadOffset = at + 4;
        p.payloadLength = end - (at + 4);
        return DecodeResult.IP;
      default:
        p.payloadOffset = at;
        p.payloadLength = Math.max(0, end - at);
        return DecodeResult.IP;
    }
  }
}
