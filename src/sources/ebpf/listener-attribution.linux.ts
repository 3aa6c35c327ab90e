// Accepts happen in softirq, where the kernel has no process to report (records.h, de_conn). The
// process that will accept() is the one listening on that local address and port, so accepts are
// credited to the last listener seen for it: from the kernel's listen events as they stream by,
// and, for servers that were already listening when the sensor started, from one /proc scan.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ConnectionEvent, KernelEvent } from '../../normalize/kernel-event.ts';
import { formatIPv6 } from './records.ts';

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

  /** Follows the stream: listen events register, exits forget. Call for every event in order. */
  observe(e: KernelEvent): void {
    if (e.kind === 'connection' && e.event === 'listen') {
      this.#set(`${e.localAddress}|${e.localPort}`, { pid: e.pid, ppid: e.ppid, uid: e.uid, comm: e.comm, cgroupId: e.cgroupId });
    } else if (e.kind === 'exit') {
      for (const [k, l] of this.#byEndpoint) if (l.pid === e.pid) this.#byEndpoint.delete(k);
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
    this.#byEndpoint.delete(key);
    this.#byEndpoint.set(key, l);
    if (this.#byEndpoint.size > MAX_LISTENERS) this.#byEndpoint.delete(this.#byEndpoint.keys().next().value!);
  }

  /**
   * Listening TCP sockets that exist now (/proc/net/tcp and tcp6, state 0A), credited to the
   * processes holding them (socket inodes in /proc/PID/fd). Best effort: unreadable entries are skipped.
   */
  seedFromProc(procRoot = '/proc'): number {
    const inodes = new Map<string, string>(); // inode -> "address|port"
    for (const [file, family] of [['net/tcp', 4], ['net/tcp6', 6]] as const) {
      let text: string;
      try {
        text = readFileSync(`${procRoot}/${file}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10 || f[3] !== '0A') continue;
        const [hexAddr, hexPort] = f[1]!.split(':');
        inodes.set(f[9]!, `${procAddress(hexAddr!, family)}|${parseInt(hexPort!, 16)}`);
      }
    }
    if (inodes.size === 0) return 0;
    let seeded = 0;
    for (const pidDir of safeReaddir(procRoot)) {
      if (!/^\d+$/.test(pidDir)) continue;
      for (const fd of safeReaddir(`${procRoot}/${pidDir}/fd`)) {
        let link: string;
        try {
          link = readlinkSync(`${procRoot}/${pidDir}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(link);
        const endpoint = m ? inodes.get(m[1]!) : undefined;
        if (endpoint === undefined || this.#byEndpoint.has(endpoint)) continue;
        const status = readStatus(`${procRoot}/${pidDir}/status`);
        if (status === null) continue;
        this.#set(endpoint, { pid: Number(pidDir), ppid: status.ppid, uid: status.uid, comm: status.name, cgroupId: 0n });
        seeded++;
      }
    }
    return seeded;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
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

/** /proc/net/tcp addresses are the kernel's in-memory bytes printed as host-endian 32-bit words. */
export function procAddress(hex: string, family: 4 | 6): string {
  const bytes = Buffer.alloc(16);
  (hex.match(/.{8}/g) ?? []).forEach((w, i) => bytes.writeUInt32LE(parseInt(w, 16) >>> 0, i * 4));
  return family === 4 ? `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}` : formatIPv6(bytes);
}
