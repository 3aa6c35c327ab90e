// TLS ClientHello and ServerHello (RFC 8446 / 5246) and their fingerprints: JA3 / JA3S (Salesforce;
// md5 of the decimal field lists, GREASE values removed) and JA4 (FoxIO, github.com/FoxIO-LLC/ja4,
// JA4 technical details). Only the first handshake message of a record is read: it is what a
// client sends first and it carries everything the fingerprints need.
import { createHash } from 'node:crypto';
import type { DecodeErrors } from './decode-errors.ts';

export interface ClientHello {
  /** False when the hello was cut short (snap length, lost segment): fingerprints are then '' (never a wrong one). */
  readonly complete: boolean;
  /** legacy_version of the ClientHello (0x0303 for TLS 1.2 and 1.3). */
  readonly version: number;
  /** Highest supported_versions entry (GREASE removed), else `version`. */
  readonly maxVersion: number;
  readonly serverName: string | null;
  readonly alpn: readonly string[];
  readonly ciphers: readonly number[];
  readonly extensions: readonly number[];
  readonly groups: readonly number[];
  readonly pointFormats: readonly number[];
  readonly signatureAlgorithms: readonly number[];
  readonly supportedVersions: readonly number[];
  readonly ja3: string;
  readonly ja3Hash: string;
  readonly ja4: string;
}

export interface ServerHello {
  readonly version: number;
  /** supported_versions selected by the server (TLS 1.3), else `version`. */
  readonly selectedVersion: number;
  readonly cipher: number;
  readonly alpn: string | null;
  readonly extensions: readonly number[];
  readonly ja3s: string;
  readonly ja3sHash: string;
}

/** GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

/** Does the payload start a TLS handshake record (content type 22, version 3.x)? */
export function looksLikeTlsHandshake(d: Buffer, at: number, length: number): boolean {
  return length >= 6 && d[at] === 22 && d[at + 1] === 3 && d[at + 2]! <= 4;
}

/** Bytes the whole first handshake record needs (5-byte header + record length), or -1. */
export function tlsRecordLength(d: Buffer, at: number, length: number): number {
  if (length < 5) return -1;
  return 5 + ((d[at + 3]! << 8) | d[at + 4]!);
}

interface Hello {
  type: number;
  body: number;
  end: number;
  /** Every byte of the handshake message was available. */
  complete: boolean;
}

function handshake(d: Buffer, at: number, length: number, errors: DecodeErrors): Hello | null {
  if (!looksLikeTlsHandshake(d, at, length)) { errors.tls_bad_record++; return null; }
  if (length < 9) { errors.tls_short++; return null; }
  const recEnd = Math.min(at + length, at + 5 + ((d[at + 3]! << 8) | d[at + 4]!));
  const type = d[at + 5]!;
  const hsLen = (d[at + 6]! << 16) | (d[at + 7]! << 8) | d[at + 8]!;
  const body = at + 9;
  // A hello split over several records or segments is read as far as it was captured.
  const end = Math.min(recEnd, body + hsLen);
  if (end - body < 38) { errors.tls_short++; return null; }
  return { type, body, end, complete: end === body + hsLen };
}

const u16 = (d: Buffer, i: number): number => (d[i]! << 8) | d[i + 1]!;

export function decodeClientHello(d: Buffer, at: number, length: number, errors: DecodeErrors, transport: 't' | 'q' = 't'): ClientHello | null {
  const h = handshake(d, at, length, errors);
  if (h === null) return null;
  if (h.type !== 1) { errors.tls_bad_handshake++; return null; }
  const end = h.end;
  const version = u16(d, h.body);
  let cur = h.body + 34; // version + random
  const sidLen = d[cur]!;
  cur += 1 + sidLen;
  if (cur + 2 > end) { errors.tls_short++; return null; }
  const csLen = u16(d, cur);
  cur += 2;
  if (cur + csLen > end || csLen % 2 !== 0) { errors.tls_bad_handshake++; return null; }
  const ciphers: number[] = [];
  for (let i = cur; i < cur + csLen; i += 2) ciphers.push(u16(d, i));
  cur += csLen;
  if (cur + 1 > end) { errors.tls_short++; return null; }
  cur += 1 + d[cur]!; // compression methods
  const extensions: number[] = [];
  const groups: number[] = [];
  const pointFormats: number[] = [];
  const signatureAlgorithms: number[] = [];
  const supportedVersions: number[] = [];
  const alpn: string[] = [];
  let serverName: string | null = null;
  if (cur + 2 <= end) {
    const extEnd = Math.min(end, cur + 2 + u16(d, cur));
    cur += 2;
    while (cur + 4 <= extEnd) {
      const type = u16(d, cur);
      const len = u16(d, cur + 2);
      const x = cur + 4;
      cur = x + len;
      if (cur > extEnd) { errors.tls_bad_extension++; break; }
      extensions.push(type);
      if (type === 0 && len >= 5) { // server_name: list len, type 0 host_name, name len, name
        const nameLen = u16(d, x + 3);
        if (d[x + 2] === 0 && x + 5 + nameLen <= cur) serverName = d.toString('latin1', x + 5, x + 5 + nameLen);
      } else if (type === 10 && len >= 2) {
        for (let i = x + 2; i + 1 < Math.min(cur, x + 2 + u16(d, x)); i += 2) groups.push(u16(d, i));
      } else if (type === 11 && len >= 1) {
        for (let i = x + 1; i < Math.min(cur, x + 1 + d[x]!); i++) pointFormats.push(d[i]!);
      } else if (type === 13 && len >= 2) {
        for (let i = x + 2; i + 1 < Math.min(cur, x + 2 + u16(d, x)); i += 2) signatureAlgorithms.push(u16(d, i));
      } else if (type === 16 && len >= 2) {
        const listEnd = Math.min(cur, x + 2 + u16(d, x));
        for (let i = x + 2; i < listEnd;) {
          const l = d[i]!;
          if (i + 1 + l > listEnd) break;
          alpn.push(d.toString('latin1', i + 1, i + 1 + l));
          i += 1 + l;
        }
      } else if (type === 43 && len >= 1) {
        for (let i = x + 1; i + 1 < Math.min(cur, x + 1 + d[x]!); i += 2) supportedVersions.push(u16(d, i));
      }
    }
  }
  let maxVersion = -1;
  for (const v of supportedVersions) if (!isGrease(v) && v > maxVersion) maxVersion = v;
  if (maxVersion < 0) maxVersion = version;
  const complete = h.complete;
  const hello = { complete, version, maxVersion, serverName, alpn, ciphers, extensions, groups, pointFormats, signatureAlgorithms, supportedVersions };
  // A fingerprint of part of a hello would be a different, wrong fingerprint: leave it empty.
  return { ...hello, ...(complete ? fingerprints(hello, transport) : { ja3: '', ja3Hash: '', ja4: '' }) };
}

type Fingerprints = Pick<ClientHello, 'ja3' | 'ja3Hash' | 'ja4'>;

/**
 * The same client software sends the same lists in every hello (only random, session id and key
 * shares change), so fingerprints are cached by two independent 32-bit hashes of every input they
 * depend on: md5, sha256 and the sorting behind JA4 then run once per client, not per connection.
 */
const fingerprintCache = new Map<string, Fingerprints>();
const FINGERPRINT_CACHE_MAX = 4096;

function fingerprints(h: Omit<ClientHello, 'ja3' | 'ja3Hash' | 'ja4' | 'complete'>, transport: 't' | 'q'): Fingerprints {
  let a = 0x811c9dc5, b = 0x01000193 ^ transport.charCodeAt(0);
  const mixIn = (v: number) => {
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ (v + 0x9e37), 0x85ebca6b) ^ (b >>> 13);
  };
  const list = (l: readonly number[], tag: number) => {
    mixIn(0x10000 + tag);
    mixIn(l.length);
    for (const v of l) mixIn(v);
  };
  mixIn(h.version);
  mixIn(h.maxVersion);
  list(h.ciphers, 1);
  list(h.extensions, 2);
  list(h.groups, 3);
  list(h.pointFormats, 4);
  list(h.signatureAlgorithms, 5);
  const first = h.alpn[0] ?? '';
  mixIn(0x10006);
  for (let i = 0; i < first.length; i++) mixIn(first.charCodeAt(i));
  const key = `${a >>> 0}:${b >>> 0}`;
  const hit = fingerprintCache.get(key);
  if (hit !== undefined) return hit;
  const noGrease = (l: readonly number[]) => l.filter((v) => !isGrease(v));
  const ja3 = [h.version, noGrease(h.ciphers).join('-'), noGrease(h.extensions).join('-'), noGrease(h.groups).join('-'), h.pointFormats.join('-')].join(',');
  const fp = { ja3, ja3Hash: md5(ja3), ja4: ja4(h, transport) };
  if (fingerprintCache.size >= FINGERPRINT_CACHE_MAX) fingerprintCache.clear();
  fingerprintCache.set(key, fp);
  return fp;
}

export function decodeServerHello(d: Buffer, at: number, length: number, errors: DecodeErrors): ServerHello | null {
  const h = handshake(d, at, length, errors);
  if (h === null) return null;
  if (h.type !== 2) { errors.tls_bad_handshake++; return null; }
  const end = h.end;
  const version = u16(d, h.body);
  let cur = h.body + 34;
  cur += 1 + d[cur]!;
  if (cur + 3 > end) { errors.tls_short++; return null; }
  const cipher = u16(d, cur);
  cur += 3; // cipher + compression
  const extensions: number[] = [];
  let selectedVersion = version;
  let alpn: string | null = null;
  if (cur + 2 <= end) {
    const extEnd = Math.min(end, cur + 2 + u16(d, cur));
    cur += 2;
    while (cur + 4 <= extEnd) {
      const type = u16(d, cur);
      const len = u16(d, cur + 2);
      const x = cur + 4;
      cur = x + len;
      if (cur > extEnd) { errors.tls_bad_extension++; break; }
      extensions.push(type);
      if (type === 43 && len === 2) selectedVersion = u16(d, x);
      else if (type === 16 && len >= 3 && x + 3 + d[x + 2]! <= cur) alpn = d.toString('latin1', x + 3, x + 3 + d[x + 2]!);
    }
  }
  const ja3s = [version, cipher, extensions.filter((v) => !isGrease(v)).join('-')].join(',');
  return { version, selectedVersion, cipher, alpn, extensions, ja3s, ja3sHash: md5(ja3s) };
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

function sha12(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

const hex4 = (v: number): string => v.toString(16).padStart(4, '0');

export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0304: return 'TLS 1.3';
    case 0x0303: return 'TLS 1.2';
    case 0x0302: return 'TLS 1.1';
    case 0x0301: return 'TLS 1.0';
    case 0x0300: return 'SSL 3.0';
    case 0x0002: return 'SSL 2.0';
    default: return `0x${hex4(v)}`;
  }
}

function ja4Version(v: number): string {
  switch (v) {
    case 0x0304: return '13';
    case 0x0303: return '12';
    case 0x0302: return '11';
    case 0x0301: return '10';
    case 0x0300: return 's3';
    case 0x0002: return 's2';
    case 0xfeff: return 'd1';
    case 0xfefd: return 'd2';
    case 0xfefc: return 'd3';
    default: return '00';
  }
}

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/**
 * JA4 = a_b_c. a: transport, version, d/i (SNI present or not), cipher count, extension count
 * (GREASE removed, both capped at 99), first and last character of the first ALPN value.
 * b: sha256 of the sorted hex cipher list, 12 hex. c: sha256 of the sorted hex extensions without
 * SNI (0000) and ALPN (0010), "_" and the signature algorithms in their order, 12 hex.
 */
export function ja4(h: Pick<ClientHello, 'maxVersion' | 'serverName' | 'alpn' | 'ciphers' | 'extensions' | 'signatureAlgorithms'>, transport: 't' | 'q' | 'd'): string {
  const ciphers = h.ciphers.filter((v) => !isGrease(v));
  const exts = h.extensions.filter((v) => !isGrease(v));
  const count = (n: number) => String(Math.min(n, 99)).padStart(2, '0');
  let alpn = '00';
  const first = h.alpn[0];
  if (first !== undefined && first.length > 0) {
    const a = first.charCodeAt(0);
    const z = first.charCodeAt(first.length - 1);
    if (isAlnum(a) && isAlnum(z)) alpn = first[0]! + first[first.length - 1]!;
    else {
      const hx = Buffer.from(first, 'latin1').toString('hex');
      alpn = hx[0]! + hx[hx.length - 1]!;
    }
  }
  const sni = h.extensions.includes(0) ? 'd' : 'i';
  const a = `${transport}${ja4Version(h.maxVersion)}${sni}${count(ciphers.length)}${count(exts.length)}${alpn}`;
  const b = ciphers.length === 0 ? '000000000000' : sha12(ciphers.map(hex4).sort().join(','));
  const extList = exts.filter((v) => v !== 0 && v !== 0x10).map(hex4).sort().join(',');
  const sigs = h.signatureAlgorithms.map(hex4).join(',');
  const c = extList === '' && sigs === '' ? '000000000000' : sha12(sigs === '' ? extList : `${extList}_${sigs}`);
  return `${a}_${b}_${c}`;
}
