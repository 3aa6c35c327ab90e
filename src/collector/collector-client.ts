// The agent's end of the collector socket: checks the handshake, verifies every frame's checksum
// and hands batches on. Corrupted frames are counted, never decoded.
import { connect, type Socket } from 'node:net';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { checkHello, decodePacketsPayload, FrameDecoder, FrameType, type ClockAnchor, type SensorLayer } from './protocol.ts';

export interface CollectorClientHandlers {
  readonly onBatch: (batch: Buffer) => void;
  readonly onStats?: (stats: Record<string, number>) => void;
  /** PACKETS frames: a packet batch and its link type (the batch is the frame's own memory). */
  readonly onPackets?: (linktype: number, batch: Buffer) => void;
  /** FLOWS frames: XDP flow counter records. */
  readonly onFlows?: (records: Buffer) => void;
  readonly onClose?: (reason: string) => void;
}

/** One read takes up to this much: 25 ms of events at 2,000 execs/s, or a whole 1 MiB packet batch in four. */
const READ_BUFFER_BYTES = 256 << 10;

export class CollectorClient {
  readonly decoder = new FrameDecoder();
  collectorPid = 0;
  anchor: ClockAnchor = { boottimeNs: 0n, wallMs: 0 };
  sensor: SensorLayer = 'ebpf';
  #socket: Socket | null = null;

  /** Connects and waits for a valid HELLO; rejects with DE_SOURCE_UNAVAILABLE otherwise. */
  async connect(socketPath: string, handlers: CollectorClientHandlers, timeoutMs = 5000): Promise<void> {
    // Read into one reused buffer, straight to the frame decoder: a batch arrives every 10 ms, and the
    // stream machinery of a 'data' listener (a Buffer, a push and an emit per read) cost this thread
    // as much as decoding the batch. Pieces the decoder keeps are copied (FrameDecoder.push).
    let onChunk: (chunk: Buffer) => void = () => {};
    const socket = connect({
      path: socketPath,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (n: number, buf: Uint8Array) => {
        onChunk(Buffer.from(buf.buffer, buf.byteOffset, n));
        return true; // keep reading
      } },
    });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      let greeted = false;
      const fail = (reason: string) => {
        socket.destroy();
        reject(new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `collector at ${socketPath}: ${reason}`, {
          hint: 'start it with `daemoneye collector` as root (or run `daemoneye run` as root, which starts it)',
        }));
      };
      const timer = setTimeout(() => fail('no handshake'), timeoutMs);
      socket.on('error', (e) => (greeted ? handlers.onClose?.(e.message) : fail(e.message)));
      socket.on('close', () => {
        if (greeted) handlers.onClose?.('collector closed the connection');
      });
      onChunk = (chunk: Buffer) => {
        let frames;
        try {
          frames = this.decoder.push(chunk, true);
        } catch (e) {
          socket.destroy();
          if (!greeted) fail((e as Error).message);
          return;
        }
        for (const f of frames) {
          if (!greeted) {
            const hello = checkHello(f);
            if (!hello.ok) return fail(hello.reason);
            greeted = true;
            this.collectorPid = hello.pid;
            this.anchor = hello.anchor;
            this.sensor = hello.sensor;
            clearTimeout(timer);
            resolve();
          } else if (f.type === FrameType.BATCH) {
            handlers.onBatch(f.payload);
          } else if (f.type === FrameType.PACKETS) {
            const p = decodePacketsPayload(f.payload);
            if (p !== null) handlers.onPackets?.(p.linktype, p.data);
          } else if (f.type === FrameType.FLOWS) {
            handlers.onFlows?.(f.payload);
          } else if (f.type === FrameType.STATS) {
            handlers.onStats?.(JSON.parse(f.payload.toString('utf8')) as Record<string, number>);
          }
        }
      };
    });
  }

  /**
   * Stops reading: frames wait in the socket, whose buffer the collector sized for a commit window
   * (native/src/sink.c), until resume(). The agent reads once per window instead of waking for
   * every 10 ms batch.
   */
  pause(): void {
    this.#socket?.pause();
  }

  resume(): void {
    this.#socket?.resume();
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = null;
  }
}
