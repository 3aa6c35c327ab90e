// The kernel's socket tables (/proc/net/{tcp,tcp6,udp,udp6}) and socket descriptors (/proc/PID/fd
// links "socket:[INODE]"): which endpoints exist and which process holds each. Shared by the two
// places that credit traffic to processes without the kernel layer's help: accepts of listeners
// that predate the sensor (src/sources/ebpf/listener-attribution) and flows seen on the wire
// (src/network/attribution/procfs-attributor). Best effort: unreadable entries are skipped.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { formatIPv6 } from '../ebpf/records.ts';

export type ProcNetTable = 'tcp' | 'tcp6' | 'udp' | 'udp6';

/** TCP state in /proc/net/tcp: 0A is LISTEN. */
export const TCP_LISTEN = '0A';

/**
 * "0100007F" (IPv4) or 32 hex digits (IPv6): the kernel's address bytes printed as host-endian
 * 32-bit words. IPv6 text is RFC 5952 (formatIPv6, as the kernel decoder prints it); `unmapV4` turns
 * IPv4-mapped addresses (dual-stack sockets) into plain dotted quads, as packets show them.
 */
export function procNetAddress(hex: string, options: { unmapV4?: boolean } = {}): string {
  const bytes = Buffer.alloc(16);
  (hex.match(/.{8}/g) ?? []).forEach((w, i) => bytes.writeUInt32LE(parseInt(w, 16) >>> 0, i * 4));
  if (hex.length === 8) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (options.unmapV4 === true && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  return formatIPv6(bytes);
}

/** "ADDR:PORT" as /proc/net prints an endpoint. */
export function procNetEndpoint(field: string, options: { unmapV4?: boolean } = {}): [string, number] {
  const [a, p] = field.split(':') as [string, string];
  return [procNetAddress(a, options), parseInt(p, 16)];
}

export interface ProcNetSocket {
  readonly table: ProcNetTable;
  readonly local: [string, number];
  readonly remote: [string, number];
  /** The state column as printed (hex), e.g. TCP_LISTEN. */
  readonly state: string;
  readonly inode: number;
}

/** Every socket of the given tables that has an inode (a socket some process can hold). */
export function readProcNetSockets(procRoot: string, tables: readonly ProcNetTable[], options: { unmapV4?: boolean } = {}): ProcNetSocket[] {
  const out: ProcNetSocket[] = [];
  for (const table of tables) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/net/${table}`, 'latin1');
    } catch {
      continue; // no IPv6, or /proc/net hidden: attribution just finds less
    }
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const f = lines[i]!.trim().split(/\s+/);
      if (f.length < 10) continue;
      const inode = Number(f[9]);
      if (!inode) continue;
      out.push({ table, local: procNetEndpoint(f[1]!, options), remote: procNetEndpoint(f[2]!, options), state: f[3]!, inode });
    }
  }
  return out;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // exited, or not ours to read
  }
}

/**
 * Calls `visit(pid, inode)` for every socket descriptor of every process (the expensive part of
 * attribution: one readlink per descriptor, so callers rate-limit it).
 */
export function forEachSocketFd(procRoot: string, visit: (pid: number, inode: number) => void): void {
  for (const pidDir of readdirOrEmpty(procRoot)) {
    if (!/^\d+$/.test(pidDir)) continue;
    for (const fd of readdirOrEmpty(`${procRoot}/${pidDir}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`${procRoot}/${pidDir}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link.startsWith('socket:[')) visit(Number(pidDir), Number(link.slice(8, -1)));
    }
  }
}
