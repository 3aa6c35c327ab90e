// The privileged collector's only job besides loading the kernel programs: hand raw batches to the
// agent over a Unix socket that only its owner can open. It has no network, no database and no
// rules. Kernel intake never waits on the agent: when the agent is absent or slow, whole batches
// beyond `maxQueuedBytes` are dropped and counted (reported in STATS and by the agent).
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, encodePacketsFrame, FrameType, helloFrame, type ClockAnchor, type SensorLayer } from './protocol.ts';

export interface CollectorServerOptions {
  readonly socketPath: string;
  /** Bytes of batches held for the agent at most (default 64 MiB). */
  readonly maxQueuedBytes?: number;
  /** Read at each connection: the agent converts kernel times with it. */
  readonly clock?: () => ClockAnchor;
}

export interface CollectorServerCounters {
  batches_sent: number;
  bytes_sent: number;
  batches_dropped: number;
  clients: number;
}

export class CollectorServer {
  readonly counters: CollectorServerCounters = { batches_sent: 0, bytes_sent: 0, batches_dropped: 0, clients: 0 };
  readonly #options: CollectorServerOptions;
  /** The kernel layer serving events, told to each agent in HELLO: set it once the sensor opened. */
  sensor: SensorLayer = 'ebpf';
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  #server: Server | null = null;
  #client: Socket | null = null;

  constructor(options: CollectorServerOptions) {
    this.#options = options;
  }

  async listen(): Promise<void> {
    rmSync(this.#options.socketPath, { force: true });
    // The socket must never exist with looser permissions, even for an instant: umask first.
    const oldMask = process.umask(0o177);
    try {
      const server = createServer((socket) => this.#accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#options.socketPath, () => resolve());
      });
      this.#server = server;
    } finally {
      process.umask(oldMask);
    }
    chmodSync(this.#options.socketPath, 0o600);
  }

  /** A batch of raw records from the kernel: sent now, queued, or dropped (counted) when the queue is full. */
  offer(batch: Buffer): void {
    this.#offerFrame(encodeFrame(FrameType.BATCH, batch));
  }

  /** A packet batch from the capture thread, forwarded unchanged with its link type (PACKETS). */
  offerPackets(linktype: number, batch: Buffer): void {
    this.#offerFrame(encodePacketsFrame(linktype, batch));
  }

  /** XDP flow counter records (FLOWS). */
  offerFlows(records: Buffer): void {
    this.#offerFrame(encodeFrame(FrameType.FLOWS, records));
  }

  #offerFrame(frame: Buffer): void {
    if (this.#client !== null && this.#queue.length === 0 && this.#client.writableLength < (this.#options.maxQueuedBytes ?? 64 << 20)) {
      this.#send(frame);
      return;
    }
    if (this.#queuedBytes + frame.length > (this.#options.maxQueuedBytes ?? 64 << 20)) {
      this.counters.batches_dropped++;
      return;
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
  }

  sendStats(stats: Record<string, number>): void {
    if (this.#client !== null) this.#client.write(encodeFrame(FrameType.STATS, Buffer.from(JSON.stringify({ ...stats, ...this.counters }))));
  }

  async close(): Promise<void> {
    this.#client?.destroy();
    const server = this.#server;
    this.#server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.#options.socketPath, { force: true });
  }

  #accept(socket: Socket): void {
    // One agent at a time: a second connection replaces the first (an agent restarted).
    this.#client?.destroy();
    this.#client = socket;
    this.counters.clients++;
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.#client === socket) this.#client = null;
    });
    socket.on('drain', () => this.#flush());
    socket.write(helloFrame(process.pid, this.#options.clock?.(), this.sensor));
    this.#flush();
  }

  #flush(): void {
    while (this.#client !== null && this.#queue.length > 0 && this.#client.writableNeedDrain === false) {
      const frame = this.#queue.shift()!;
      this.#queuedBytes -= frame.length;
      this.#send(frame);
    }
  }

  #send(frame: Buffer): void {
    this.#client!.write(frame);
    this.counters.batches_sent++;
    this.counters.bytes_sent += frame.length;
  }
}
