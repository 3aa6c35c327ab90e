// Accepts happen in softirq, where the kernel has no process to report (records.h, de_conn). The
// process that will accept() is the one listening on that local address and port, so accepts are
// credited to the last listener seen for it: from the kernel's listen events as they stream by,
// and, for servers that were already listening when the sensor started, from one /proc scan.
import { readFileSync } from 'node:fs';
import { forEachSocketFd, procNetAddress, readProcNetSockets, TCP_LISTEN } from '../procfs/proc-net.linux.ts';
import type { ConnectionEvent, KernelEvent } from '../../normalize/kernel-event.ts';

export interface Listener {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly comm: string;
  readonly cgroupId: bigint;
}

const MAX_LISTENERS = 8192;

export class ListenerAttribution {
  readonly #byEndpoint = new Map<string, Listener>();
  /** The endpoints each listening pid holds: an exit (thousands a second) forgets its own, no scan. */
  readonly #byPid = new Map<number, Set<string>>();

  /** Follows the stream: listen events register, exits forget. Call for every event in order. */
  observe(e: KernelEvent): void {
    if (e.kind === 'connection' && e.event === 'listen') {
      this.#set(`${e.localAddress}|${e.localPort}`, { pid: e.pid, ppid: e.ppid, uid: e.uid, comm: e.comm, cgroupId: e.cgroupId });
    } else if (e.kind === 'exit') {
      const keys = this.#byPid.get(e.pid);
      if (keys === undefined) return;
      this.#byPid.delete(e.pid);
      for (const k of keys) if (this.#byEndpoint.get(k)?.pid === e.pid) this.#byEndpoint.delete(k);
    }
  }

  /** The listener an accept belongs to: exact local address first, then the wildcard of its family. */
  listenerFor(e: ConnectionEvent): Listener | null {
    return this.#byEndpoint.get(`${e.localAddress}|${e.localPort}`)
      ?? this.#byEndpoint.get(`${e.family === 6 ? '::' : '0.0.0.0'}|${e.localPort}`)
      // A dual-stack socket bound to :: accepts IPv4 too.
      ?? (e.family === 4 ? this.#byEndpoint.get(`::|${e.localPort}`) ?? null : null);
  }

  get size(): number {
    return this.#byEndpoint.size;
  }

  #set(key: string, l: Listener): void {
    this.#forget(key);
    this.#byEndpoint.set(key, l);
    let keys = this.#byPid.get(l.pid);
    if (keys === undefined) this.#byPid.set(l.pid, (keys = new Set()));
    keys.add(key);
    if (this.#byEndpoint.size > MAX_LISTENERS) this.#forget(this.#byEndpoint.keys().next().value!);
  }

  #forget(key: string): void {
    const old = this.#byEndpoint.get(key);
    if (old === undefined) return;
    this.#byEndpoint.delete(key);
    const keys = this.#byPid.get(old.pid);
    keys?.delete(key);
    if (keys?.size === 0) this.#byPid.delete(old.pid);
  }

  /**
   * Listening TCP sockets that exist now (/proc/net/tcp and tcp6, state 0A), credited to the
   * processes holding them (socket inodes in /proc/PID/fd). Best effort: unreadable entries are skipped.
   */
  seedFromProc(procRoot = '/proc'): number {
    const endpoints = new Map<number, string>(); // inode -> "address|port"
    for (const sock of readProcNetSockets(procRoot, ['tcp', 'tcp6'])) {
      if (sock.state === TCP_LISTEN) endpoints.set(sock.inode, `${sock.local[0]}|${sock.local[1]}`);
    }
    if (endpoints.size === 0) return 0;
    let seeded = 0;
    forEachSocketFd(procRoot, (pid, inode) => {
      const endpoint = endpoints.get(inode);
      if (endpoint === undefined || this.#byEndpoint.has(endpoint)) return;
      const status = readStatus(`${procRoot}/${pid}/status`);
      if (status === null) return;
      this.#set(endpoint, { pid, ppid: status.ppid, uid: status.uid, comm: status.name, cgroupId: 0n });
      seeded++;
    });
    return seeded;
  }
}

function readStatus(path: string): { name: string; ppid: number; uid: number } | null {
  try {
    const text = readFileSync(path, 'utf8');
    const get = (k: string) => new RegExp(`^${k}:\\s*(\\S*)`, 'm').exec(text)?.[1];
    return { name: get('Name') ?? '', ppid: Number(get('PPid') ?? 0), uid: Number(get('Uid') ?? 0) };
  } catch {
    return null;
  }
}

/** /proc/net/tcp address words to text, as the kernel decoder prints addresses (IPv4-mapped kept mixed). */
export function procAddress(hex: string, _family: 4 | 6): string {
  return procNetAddress(hex);
}
