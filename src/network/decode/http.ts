// HTTP/1.x request and response heads, recognised by content on any port: a request starts with a
// method token and a space, a response with "HTTP/1.". Only the head in this segment is read
// (request line, Host, User-Agent, status): bodies are never looked at.
import type { DecodeErrors } from './decode-errors.ts';

export interface HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly host: string | null;
  readonly userAgent: string | null;
}

export interface HttpResponse {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
}

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'PROPFIND'];
/** First letters of the methods: a one-byte test rejects almost every other segment. */
const FIRST = new Set(METHODS.map((m) => m.charCodeAt(0)));
const MAX_LINE = 8192;
const MAX_HEAD = 16_384;

/** A cheap check for the hot path: could this payload start an HTTP/1 request or response? */
export function mayBeHttp(d: Buffer, at: number, length: number): boolean {
  if (length < 12) return false;
  const c = d[at]!;
  if (c === 0x48 && d[at + 1] === 0x54 && d[at + 2] === 0x54 && d[at + 3] === 0x50 && d[at + 4] === 0x2f) return true; // "HTTP/"
  return FIRST.has(c);
}

function lineEnd(d: Buffer, from: number, end: number): number {
  const limit = Math.min(end, from + MAX_LINE);
  for (let i = from; i + 1 < limit; i++) if (d[i] === 0x0d && d[i + 1] === 0x0a) return i;
  return -1;
}

function isToken(d: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = d[i]!;
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return to > from;
}

/** Parses a request head; null when the payload is not one (not counted: most payloads are not HTTP). */
export function decodeHttpRequest(d: Buffer, at: number, length: number, errors: DecodeErrors): HttpRequest | null {
  const end = at + length;
  const eol = lineEnd(d, at, end);
  if (eol < 0) return null;
  const sp1 = d.indexOf(0x20, at);
  if (sp1 < 0 || sp1 > eol) return null;
  const method = d.toString('latin1', at, sp1);
  if (!METHODS.includes(method)) return null;
  const sp2 = d.lastIndexOf(0x20, eol);
  if (sp2 <= sp1 || eol - sp2 !== 9 || d.toString('latin1', sp2 + 1, sp2 + 6) !== 'HTTP/') {
    errors.http_bad_request++;
    return null;
  }
  if (!isToken(d, sp1 + 1, sp2)) { errors.http_bad_request++; return null; }
  const target = d.toString('latin1', sp1 + 1, sp2);
  const version = d.toString('latin1', sp2 + 1, eol);
  let host: string | null = null;
  let userAgent: string | null = null;
  const headEnd = Math.min(end, at + MAX_HEAD);
  for (let line = eol + 2; line < headEnd;) {
    const e = lineEnd(d, line, headEnd);
    const stop = e < 0 ? headEnd : e;
    if (stop === line) break; // blank line: end of the head
    const colon = d.indexOf(0x3a, line);
    if (colon > line && colon < stop) {
      const nameLen = colon - line;
      if (nameLen === 4 || nameLen === 10) {
        const name = d.toString('latin1', line, colon).toLowerCase();
        const value = d.toString('latin1', colon + 1, stop).trim();
        if (name === 'host' && host === null) host = value;
        else if (name === 'user-agent' && userAgent === null) userAgent = value;
      }
    }
    if (e < 0) break;
    line = e + 2;
  }
  return { method, target, version, host, userAgent };
}

export function decodeHttpResponse(d: Buffer, at: number, length: number): HttpResponse | null {
  const end = at + length;
  if (length < 12 || d.toString('latin1', at, at + 7) !== 'HTTP/1.') return null;
  const eol = lineEnd(d, at, end);
  const stop = eol < 0 ? Math.min(end, at + 256) : eol;
  if (d[at + 8] !== 0x20) return null;
  const status = Number(d.toString('latin1', at + 9, at + 12));
  if (!Number.isInteger(status) || status < 100 || status > 999) return null;
  return { version: d.toString('latin1', at, at + 8), status, reason: d.toString('latin1', at + 13, stop).trim() };
}
