// Attribution without the kernel layer: /proc/net/{tcp,tcp6,udp,udp6} map socket endpoints to
// inodes, and /proc/PID/fd links ("socket:[inode]") map inodes to processes. Reading every fd of
// every process is the expensive part, so it runs only when a record names an inode not seen yet,
// at most every MIN_SCAN_MS. A socket closed before its record is written cannot be found this
// way; records of the same flow written earlier (DNS, TLS, HTTP) lend the flow their answer, and
// the monitor asks about each new flow within a batch of its first packet, while it is open.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Endpoints } from '../records.ts';
import { UNATTRIBUTED, type Attribution, type Attributor } from './attributor.ts';
import { BoundedMap, socketKey } from './endpoint-key.ts';

/** fd scans: a burst of SCAN_BURST, then SCANS_PER_SECOND (a scan reads every /proc/PID/fd link). */
const SCAN_BURST = 5;
const SCANS_PER_SECOND = 10;

/** "0100007F:1F90" (IPv4) or 32 hex digits (IPv6, four host-order words) to text. */
export function procNetAddress(hex: string): [string, number] {
  const [a, p] = hex.split(':') as [string, string];
  const port = parseInt(p, 16);
  if (a.length === 8) {
    const v = parseInt(a, 16);
    return [`${v & 0xff}.${(v >>> 8) & 0xff}.${(v >>> 16) & 0xff}.${v >>> 24}`, port];
  }
  const bytes = Buffer.alloc(16);
  for (let w = 0; w < 4; w++) bytes.writeUInt32LE(parseInt(a.slice(w * 8, w * 8 + 8), 16) >>> 0, w * 4);
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return [`${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`, port];
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Compress the longest zero run like the decoder (RFC 5952).
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const text = bestAt < 0 ? groups.join(':') : `${groups.slice(0, bestAt).join(':')}::${groups.slice(bestAt + bestLen).join(':')}`;
  return [text, port];
}

export class ProcfsAttributor implements Attributor {
  readonly #proc: string;
  /** socket key (tcp: full 4-tuple; udp: local address and port) → inode */
  #inodes = new Map<string, number>();
  readonly #owners = new BoundedMap<number, Attribution>(100_000);
  /** Answers already given per flow, so a flow record can reuse what its DNS/TLS/HTTP rows found. */
  readonly #byFlow = new BoundedMap<string, Attribution>(50_000);
  #tokens = SCAN_BURST;
  #tokensAt = Date.now();
  scans = 0;

  constructor(procRoot = '/proc') {
    this.#proc = procRoot;
  }

  refresh(pending: readonly Endpoints[]): void {
    this.#readSocketTables();
    let missing = false;
    for (const e of pending) {
      const inode = this.#inodeOf(e);
      if (inode !== undefined && !this.#owners.has(inode)) { missing = true; break; }
    }
    if (missing && this.#takeToken()) this.#scanFds();
  }

  attribute(e: Endpoints): Attribution {
    const flowKey = `${e.protocol}|${e.clientAddress}|${e.clientPort}|${e.serverAddress}|${e.serverPort}`;
    // The answer found while the flow was new wins: by the time its rows are written the client's
    // socket may be closed, and only the server's (another process on this host) would be left.
    const early = this.#byFlow.get(flowKey);
    if (early !== undefined) return early;
    const inode = this.#inodeOf(e);
    const owner = inode === undefined ? undefined : this.#owners.get(inode);
    if (owner !== undefined) {
      this.#byFlow.set(flowKey, owner);
      return owner;
    }
    return UNATTRIBUTED;
  }

  #inodeOf(e: Endpoints): number | undefined {
    if (e.protocol === 'tcp') {
      return this.#inodes.get(socketKey('tcp', e.clientAddress, e.clientPort, e.serverAddress, e.serverPort))
        ?? this.#inodes.get(socketKey('tcp', e.serverAddress, e.serverPort, e.clientAddress, e.clientPort));
    }
    if (e.protocol === 'udp') {
      return this.#inodes.get(`udp|${e.clientAddress}|${e.clientPort}`) ?? this.#inodes.get(`udp|*|${e.clientPort}`)
        ?? this.#inodes.get(`udp|${e.serverAddress}|${e.serverPort}`) ?? this.#inodes.get(`udp|*|${e.serverPort}`);
    }
    return undefined;
  }

  #readSocketTables(): void {
    const inodes = new Map<string, number>();
    for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
      let text: string;
      try {
        text = readFileSync(`${this.#proc}/net/${table}`, 'latin1');
      } catch {
        continue; // no IPv6, or /proc/net hidden: attribution just finds less
      }
      const lines = text.split('\n');
      for (let i = 1; i < lines.length; i++) {
        const f = lines[i]!.trim().split(/\s+/);
        if (f.length < 10) continue;
        const inode = Number(f[9]);
        if (!inode) continue;
        const [la, lp] = procNetAddress(f[1]!);
        if (table.startsWith('tcp')) {
          const [ra, rp] = procNetAddress(f[2]!);
          inodes.set(socketKey('tcp', la, lp, ra, rp), inode);
        } else {
          const wildcard = la === '0.0.0.0' || la === '::';
          inodes.set(wildcard ? `udp|*|${lp}` : `udp|${la}|${lp}`, inode);
        }
      }
    }
    this.#inodes = inodes;
  }

  #takeToken(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(SCAN_BURST, this.#tokens + ((now - this.#tokensAt) / 1000) * SCANS_PER_SECOND);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  #scanFds(): void {
    this.scans++;
    let pids: string[];
    try {
      pids = readdirSync(this.#proc).filter((d) => /^\d+$/.test(d));
    } catch {
      return;
    }
    for (const pid of pids) {
      let fds: string[];
      try {
        fds = readdirSync(`${this.#proc}/${pid}/fd`);
      } catch {
        continue; // exited, or not ours to read
      }
      let comm: string | null = null;
      for (const fd of fds) {
        let link: string;
        try {
          link = readlinkSync(`${this.#proc}/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (!link.startsWith('socket:[')) continue;
        const inode = Number(link.slice(8, -1));
        if (this.#owners.has(inode)) continue;
        if (comm === null) {
          try {
            comm = readFileSync(`${this.#proc}/${pid}/comm`, 'utf8').trim();
          } catch {
            comm = '';
          }
        }
        this.#owners.set(inode, { pid: Number(pid), processName: comm, method: 'procfs' });
      }
    }
  }
}
