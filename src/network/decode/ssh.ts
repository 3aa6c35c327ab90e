// SSH identification strings (RFC 4253 section 4.2): "SSH-protoversion-softwareversion [comments]"
// ending in CR LF (some servers send only LF), at most 255 bytes. Either side sends one first.
import type { DecodeErrors } from './decode-errors.ts';

export interface SshBanner {
  readonly protoVersion: string;
  readonly software: string;
  readonly comments: string | null;
  readonly raw: string;
}

export function mayBeSsh(d: Buffer, at: number, length: number): boolean {
  return length >= 8 && d[at] === 0x53 && d[at + 1] === 0x53 && d[at + 2] === 0x48 && d[at + 3] === 0x2d;
}

export function decodeSshBanner(d: Buffer, at: number, length: number, errors: DecodeErrors): SshBanner | null {
  if (!mayBeSsh(d, at, length)) return null;
  const limit = Math.min(at + length, at + 255);
  let eol = -1;
  for (let i = at; i < limit; i++) if (d[i] === 0x0a) { eol = i; break; }
  if (eol < 0) { errors.ssh_bad_banner++; return null; }
  const line = d.toString('latin1', at, d[eol - 1] === 0x0d ? eol - 1 : eol);
  const m = /^SSH-([!-,.-~]+)-([!-~]+)(?: (.*))?$/.exec(line);
  if (m === null) { errors.ssh_bad_banner++; return null; }
  return { protoVersion: m[1]!, software: m[2]!, comments: m[3] ?? null, raw: line };
}
