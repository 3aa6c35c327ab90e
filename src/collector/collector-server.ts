// The privileged collector's only job besides loading the kernel programs: hand raw batches to the
// agent over a Unix socket that only its owner can open. It has no network, no database and no
// rules. Kernel intake never waits on the agent: when the agent is absent or slow, whole batches
// beyond `maxQueuedBytes` are dropped and counted (reported in STATS and by the agent).
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, encodePacketsFrame, FrameType, helloFrame, type ClockAnchor, type SensorLayer } from './protocol.ts';

/**
 * Where frames go when the addon writes batches itself (native/src/sink.c): the server then only
 * accepts the agent, sends HELLO, and hands the socket over.
 */
export interface NativeSink {
  attachSink(fd: number): void;
  detachSink(): void;
  sendFrame(frame: Buffer): boolean;
  sinkStats(): { framesSent: number; bytesSent: number; framesDropped: number; clients: number };
}

export interface CollectorServerOptions {
  readonly socketPath: string;
  /** Batches are written by the addon's drain thread (offer() is then unused). */
  readonly nativeSink?: NativeSink;
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
    const sink = this.#options.nativeSink;
    if (sink !== undefined) {
      const s = sink.sinkStats();
      const counters = { batches_sent: s.framesSent, bytes_sent: s.bytesSent, batches_dropped: s.framesDropped, clients: s.clients };
      sink.sendFrame(encodeFrame(FrameType.STATS, Buffer.from(JSON.stringify({ ...stats, ...counters }))));
      return;
    }
    if (this.#client !== null) this.#client.write(encodeFrame(FrameType.STATS, Buffer.from(JSON.stringify({ ...stats, ...this.counters }))));
  }

  async close(): Promise<void> {
    this.#options.nativeSink?.detachSink();
    this.#client?.destroy();
    const server = this.#server;
    this.#server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.#options.socketPath, { force: true });
  }

  #accept(socket: Socket): void {
    // One agent at a time: a second connection replaces the first (an agent restarted).
    this.#options.nativeSink?.detachSink();
    this.#client?.destroy();
    this.#client = socket;
    this.counters.clients++;
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.#client !== socket) return;
      this.#client = null;
      this.#options.nativeSink?.detachSink();
    });
    const hello = helloFrame(process.pid, this.#options.clock?.(), this.sensor);
    const sink = this.#options.nativeSink;
    if (sink !== undefined) {
      // The addon writes from here on: only once HELLO is out, so it is the stream's first frame.
      socket.write(hello, (e) => {
        const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
        if (e == null && this.#client === socket && typeof fd === 'number' && fd >= 0) sink.attachSink(fd);
      });
      return;
    }
    socket.on('drain', () => this.#flush());
    socket.write(hello);
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
