// Attribution without the kernel layer: /proc/net/{tcp,tcp6,udp,udp6} map socket endpoints to
// inodes, and /proc/PID/fd links ("socket:[inode]") map inodes to processes. Reading every fd of
// every process is the expensive part, so it runs only when a record names an inode not seen yet,
// at most every MIN_SCAN_MS. A socket closed before its record is written cannot be found this
// way; records of the same flow written earlier (DNS, TLS, HTTP) lend the flow their answer, and
// the monitor asks about each new flow within a batch of its first packet, while it is open.
import { readFileSync } from 'node:fs';
import { forEachSocketFd, procNetEndpoint, readProcNetSockets } from '../../sources/procfs/proc-net.linux.ts';
import type { Endpoints } from '../records.ts';
import { UNATTRIBUTED, type Attribution, type Attributor } from './attributor.ts';
import { BoundedMap, socketKey } from './endpoint-key.ts';

/** fd scans: a burst of SCAN_BURST, then SCANS_PER_SECOND (a scan reads every /proc/PID/fd link). */
const SCAN_BURST = 5;
const SCANS_PER_SECOND = 10;

/** "0100007F:1F90" to ["127.0.0.1", 8080]; IPv4-mapped IPv6 is shown as IPv4, as packets show it. */
export function procNetAddress(hex: string): [string, number] {
  return procNetEndpoint(hex, { unmapV4: true });
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
    for (const { table, local: [la, lp], remote: [ra, rp], inode } of readProcNetSockets(this.#proc, ['tcp', 'tcp6', 'udp', 'udp6'], { unmapV4: true })) {
      if (table.startsWith('tcp')) {
        inodes.set(socketKey('tcp', la, lp, ra, rp), inode);
      } else {
        const wildcard = la === '0.0.0.0' || la === '::';
        inodes.set(wildcard ? `udp|*|${lp}` : `udp|${la}|${lp}`, inode);
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
    const comms = new Map<number, string>();
    forEachSocketFd(this.#proc, (pid, inode) => {
      if (this.#owners.has(inode)) return;
      let comm = comms.get(pid);
      if (comm === undefined) {
        try {
          comm = readFileSync(`${this.#proc}/${pid}/comm`, 'utf8').trim();
        } catch {
          comm = '';
        }
        comms.set(pid, comm);
      }
      this.#owners.set(inode, { pid, processName: comm, method: 'procfs' });
    });
  }
}
