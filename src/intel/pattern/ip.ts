// IPv4/IPv6 addresses and CIDR ranges as bytes, for ISSUBSET/ISSUPERSET and the CIDR trie.
// The reference matcher handles IPv4 only; IPv6 is supported here the same way (STIX 2.1 spec
// examples use IPv6 ranges).
import ipaddr from 'ipaddr.js';

export interface IpRange {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** 32 or 128. */
  readonly bits: number;
  /** Written with a /prefix. */
  readonly cidr: boolean;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIp(text: string): Uint8Array | null {
  const c0 = text.charCodeAt(0);
  // Neither a digit nor a hex digit nor ':' cannot start an address: skip the regexes for names.
  if (!((c0 >= 48 && c0 <= 58) || (c0 >= 97 && c0 <= 102) || (c0 >= 65 && c0 <= 70))) return null;
  const m = V4.exec(text);
  if (m !== null) {
    const parts = [m[1], m[2], m[3], m[4]].map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : null;
  }
  if (text.includes(':') && text.length <= 64 && ipaddr.IPv6.isValid(text)) {
    return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
  }
  return null;
}

export function parseIpOrCidr(text: string): IpRange | null {
  if (typeof text !== 'string' || text.length > 80) return null;
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  const bits = addr.length * 8;
  if (slash < 0) return { bytes: addr, prefix: bits, bits, cidr: false };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return null;
  return { bytes: addr, prefix: Number(p), bits, cidr: true };
}

/** Is `inner` (an address or range) inside `outer`? Families must agree. */
export function cidrContains(outer: IpRange, inner: IpRange): boolean {
  if (outer.bits !== inner.bits || outer.prefix > inner.prefix) return false;
  const full = outer.prefix >> 3;
  for (let i = 0; i < full; i += 1) if (outer.bytes[i] !== inner.bytes[i]) return false;
  const rest = outer.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (outer.bytes[full]! & mask) === (inner.bytes[full]! & mask);
}
