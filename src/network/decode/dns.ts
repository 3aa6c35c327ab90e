// DNS messages (RFC 1035) over UDP, or over TCP with the two-byte length prefix (RFC 7766).
// Names may be compressed; a pointer must point backwards and a name may follow at most 64
// pointers, so a loop or a forward pointer is counted, never followed forever.
import type { DecodeErrors } from './decode-errors.ts';

export interface DnsAnswer {
  readonly name: string;
  readonly type: number;
  readonly ttl: number;
  /** A / AAAA address, CNAME / NS / PTR target, MX exchange, TXT joined; '' for other types. */
  readonly data: string;
}

export interface DnsMessage {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly rcode: number;
  readonly questionName: string;
  readonly questionType: number;
  readonly answers: readonly DnsAnswer[];
  readonly answerCount: number;
}

const MAX_POINTERS = 64;
const MAX_NAME = 255;
const MAX_ANSWERS = 32;

export const DNS_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR',
  43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 255: 'ANY', 257: 'CAA', 10: 'NULL',
};

export function dnsTypeName(t: number): string {
  return DNS_TYPE_NAMES[t] ?? `TYPE${t}`;
}

/** Reads a name at `at` within message [base, end). Returns [name, offset after it] or null. */
function readName(d: Buffer, base: number, end: number, at: number, errors: DecodeErrors): [string, number] | null {
  let name = '';
  let cur = at;
  let after = -1;
  let jumps = 0;
  let lowest = cur; // pointers must go strictly backwards from every position already read
  for (;;) {
    if (cur >= end) { errors.dns_bad_name++; return null; }
    const len = d[cur]!;
    if (len === 0) {
      if (after < 0) after = cur + 1;
      return [name, after];
    }
    if ((len & 0xc0) === 0xc0) {
      if (cur + 1 >= end) { errors.dns_bad_name++; return null; }
      const target = base + (((len & 0x3f) << 8) | d[cur + 1]!);
      if (after < 0) after = cur + 2;
      if (++jumps > MAX_POINTERS || target >= lowest) { errors.dns_name_loop++; return null; }
      lowest = target;
      cur = target;
      continue;
    }
    if ((len & 0xc0) !== 0) { errors.dns_bad_name++; return null; } // 0x40/0x80: obsolete label types
    if (cur + 1 + len > end) { errors.dns_bad_name++; return null; }
    if (name.length + len + 1 > MAX_NAME) { errors.dns_bad_name++; return null; }
    // Labels are bytes; keep printable ASCII as is and escape the rest as \DDD like dig does.
    let plain = true;
    for (let i = cur + 1; i <= cur + len; i++) {
      const c = d[i]!;
      if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) { plain = false; break; }
    }
    let label: string;
    if (plain) label = d.toString('latin1', cur + 1, cur + 1 + len); // the common case: one slice, no per-byte strings
    else {
      label = '';
      for (let i = cur + 1; i <= cur + len; i++) {
        const c = d[i]!;
        label += c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c ? String.fromCharCode(c) : `\\${c.toString().padStart(3, '0')}`;
      }
    }
    name = name === '' ? label : `${name}.${label}`;
    cur += 1 + len;
  }
}

function formatIpv6(d: Buffer, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((d[at + i]! << 8) | d[at + i + 1]!);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const h = g.map((x) => x.toString(16));
  return bestAt < 0 ? h.join(':') : `${h.slice(0, bestAt).join(':')}::${h.slice(bestAt + bestLen).join(':')}`;
}

/** Decodes one DNS message at d[at, at+length); null (counted) when malformed. */
export function decodeDns(d: Buffer, at: number, length: number, errors: DecodeErrors): DnsMessage | null {
  const end = at + length;
  if (length < 12) { errors.dns_short++; return null; }
  const id = (d[at]! << 8) | d[at + 1]!;
  const flags = (d[at + 2]! << 8) | d[at + 3]!;
  const qd = (d[at + 4]! << 8) | d[at + 5]!;
  const an = (d[at + 6]! << 8) | d[at + 7]!;
  let cur = at + 12;
  let questionName = '';
  let questionType = 0;
  for (let i = 0; i < qd; i++) {
    const n = readName(d, at, end, cur, errors);
    if (n === null) return null;
    if (n[1] + 4 > end) { errors.dns_short++; return null; }
    if (i === 0) {
      questionName = n[0];
      questionType = (d[n[1]]! << 8) | d[n[1] + 1]!;
    }
    cur = n[1] + 4;
    if (i >= 4) break; // real messages carry one question; do not walk a fabricated 65,535
  }
  const answers: DnsAnswer[] = [];
  const response = (flags & 0x8000) !== 0;
  if (response) {
    for (let i = 0; i < an && i < MAX_ANSWERS; i++) {
      const n = readName(d, at, end, cur, errors);
      if (n === null) break;
      const r = n[1];
      if (r + 10 > end) { errors.dns_bad_record++; break; }
      const type = (d[r]! << 8) | d[r + 1]!;
      const ttl = d.readUInt32BE(r + 4);
      const rdlen = (d[r + 8]! << 8) | d[r + 9]!;
      const rd = r + 10;
      if (rd + rdlen > end) { errors.dns_bad_record++; break; }
      let data = '';
      if (type === 1 && rdlen === 4) data = `${d[rd]}.${d[rd + 1]}.${d[rd + 2]}.${d[rd + 3]}`;
      else if (type === 28 && rdlen === 16) data = formatIpv6(d, rd);
      else if (type === 5 || type === 2 || type === 12) data = readName(d, at, end, rd, errors)?.[0] ?? '';
      else if (type === 15 && rdlen >= 3) data = readName(d, at, end, rd + 2, errors)?.[0] ?? '';
      else if (type === 16) {
        const parts: string[] = [];
        for (let t = rd; t < rd + rdlen;) {
          const l = d[t]!;
          if (t + 1 + l > rd + rdlen) break;
          parts.push(d.toString('latin1', t + 1, t + 1 + l));
          t += 1 + l;
        }
        data = parts.join('');
      }
      answers.push({ name: n[0], type, ttl, data });
      cur = rd + rdlen;
    }
  }
  return { id, response, opcode: (flags >> 11) & 0x0f, rcode: flags & 0x0f, questionName, questionType, answers, answerCount: an };
}

/** Does a UDP/TCP port pair look like DNS (server side on 53, mDNS 5353, LLMNR 5355)? */
export function isDnsPort(srcPort: number, dstPort: number): boolean {
  return srcPort === 53 || dstPort === 53 || srcPort === 5353 || dstPort === 5353 || srcPort === 5355 || dstPort === 5355;
}

export const DNS_RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export function dnsRcodeName(r: number): string {
  return DNS_RCODE_NAMES[r] ?? `RCODE${r}`;
}
