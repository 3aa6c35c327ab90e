// Attribution from the kernel layer's connect/accept events (table network_connections, written by
// the eBPF sensor): exact for TCP, including sockets long closed by the time the flow is written.
// New rows are read incrementally (id > last seen) into a bounded map before each batch.
import type { Statement } from 'better-sqlite3';
import type { Db } from '../../store/open-store.ts';
import type { Endpoints } from '../records.ts';
import { UNATTRIBUTED, type Attribution, type Attributor } from './attributor.ts';
import { BoundedMap, normalizeAddress, socketKey } from './endpoint-key.ts';

const MAX_SOCKETS = 200_000;

interface ConnectionRow {
  id: number;
  event: string;
  pid: number;
  comm: string;
  local_address: string;
  local_port: number;
  remote_address: string;
  remote_port: number;
}

export class KernelAttributor implements Attributor {
  readonly #read: Statement;
  readonly #sockets = new BoundedMap<string, Attribution>(MAX_SOCKETS);
  readonly #listeners = new BoundedMap<string, Attribution>(10_000);
  #lastId = 0;

  constructor(db: Db, options: { sinceMs?: number } = {}) {
    this.#read = db.prepare(`SELECT id, event, pid, comm, local_address, local_port, remote_address, remote_port
      FROM network_connections WHERE id > ? AND time >= ? ORDER BY id LIMIT 50000`);
    this.#sinceMs = options.sinceMs ?? Date.now() - 3_600_000;
  }

  readonly #sinceMs: number;

  get known(): number {
    return this.#sockets.size;
  }

  refresh(): void {
    for (;;) {
      const rows = this.#read.all(this.#lastId, this.#sinceMs) as ConnectionRow[];
      for (const r of rows) {
        this.#lastId = r.id;
        if (r.pid === 0) continue; // an accept the sensor could not attribute
        const a: Attribution = { pid: r.pid, processName: r.comm, method: 'kernel' };
        if (r.event === 'listen') this.#listeners.set(`${normalizeAddress(r.local_address)}|${r.local_port}`, a);
        else this.#sockets.set(socketKey('tcp', r.local_address, r.local_port, r.remote_address, r.remote_port), a);
      }
      if (rows.length < 50000) return;
    }
  }

  attribute(e: Endpoints): Attribution {
    if (e.protocol !== 'tcp') return UNATTRIBUTED;
    return this.#sockets.get(socketKey('tcp', e.clientAddress, e.clientPort, e.serverAddress, e.serverPort))
      ?? this.#sockets.get(socketKey('tcp', e.serverAddress, e.serverPort, e.clientAddress, e.clientPort))
      ?? this.#listeners.get(`${e.serverAddress}|${e.serverPort}`)
      ?? this.#listeners.get(`0.0.0.0|${e.serverPort}`)
      ?? this.#listeners.get(`::|${e.serverPort}`)
      ?? UNATTRIBUTED;
  }
}
