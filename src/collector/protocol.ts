// The wire between the privileged collector and the unprivileged agent (a Unix socket, mode 0600).
// Frames are length-prefixed with a CRC-32 of the payload, so a torn or corrupted frame is detected
// and counted instead of being decoded as events; a handshake pins the protocol version so an agent
// never misreads a collector of another build.
//
//   frame    = length:u32le  crc32:u32le  type:u8  payload[length - 1]
//   length   counts type + payload; at most MAX_FRAME_BYTES
//   HELLO    payload = JSON {"magic":"daemoneye-collector","version":1,"pid":N,"boottime_ns":"…","wall_ms":N}
//            (the clock anchor: kernel records carry CLOCK_BOOTTIME, which the agent converts with it)
//   BATCH    payload = raw kernel records (src/sources/ebpf/records.ts decodes them)
//   STATS    payload = JSON counters of the collector (kernel drops, records, batches; pcap_* for capture)
//   PACKETS  payload = linktype:u32le + a packet batch, unchanged (src/sources/pcap/batch-format.ts)
//   FLOWS    payload = XDP flow counter records (src/sources/pcap/flow-records.ts)
// PACKETS and FLOWS travel on the collector's packet socket (collector-net.sock), so a burst of
// packets never queues ahead of kernel events. Agents ignore frame types they do not know.
import { crc32 } from 'node:zlib';

export const PROTOCOL_VERSION = 1;
export const MAGIC = 'daemoneye-collector';
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export const FrameType = { HELLO: 1, BATCH: 2, STATS: 3, PACKETS: 4, FLOWS: 5 } as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

export function encodeFrame(type: FrameTypeCode, payload: Buffer): Buffer {
  if (payload.length + 1 > MAX_FRAME_BYTES) throw new RangeError(`frame of ${payload.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const head = Buffer.allocUnsafe(9);
  head.writeUInt32LE(payload.length + 1, 0);
  head.writeUInt8(type, 8);
  // The checksum covers type + payload; crc32 continues from the type byte, so the batch is copied once.
  head.writeUInt32LE(crc32(payload, crc32(head.subarray(8, 9))), 4);
  return Buffer.concat([head, payload]);
}

/** A PACKETS frame: the link type ahead of the batch, one copy of the batch (as encodeFrame). */
export function encodePacketsFrame(linktype: number, batch: Buffer): Buffer {
  if (batch.length + 5 > MAX_FRAME_BYTES) throw new RangeError(`packet batch of ${batch.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const head = Buffer.allocUnsafe(13);
  head.writeUInt32LE(batch.length + 5, 0);
  head.writeUInt8(FrameType.PACKETS, 8);
  head.writeUInt32LE(linktype >>> 0, 9);
  head.writeUInt32LE(crc32(batch, crc32(head.subarray(8, 13))), 4);
  return Buffer.concat([head, batch]);
}

/** Splits a PACKETS payload; the batch shares the payload's memory (no copy). */
export function decodePacketsPayload(payload: Buffer): { linktype: number; data: Buffer } | null {
  if (payload.length < 4) return null;
  return { linktype: payload.readUInt32LE(0), data: payload.subarray(4) };
}

export interface ClockAnchor {
  /** CLOCK_BOOTTIME and the wall clock read together by the collector. */
  readonly boottimeNs: bigint;
  readonly wallMs: number;
}

/** Which kernel layer feeds the collector: the eBPF sensor, or the netlink process connector when eBPF cannot load. */
export type SensorLayer = 'ebpf' | 'netlink';

export function helloFrame(pid: number, anchor: ClockAnchor = { boottimeNs: 0n, wallMs: 0 }, sensor: SensorLayer = 'ebpf'): Buffer {
  const hello = { magic: MAGIC, version: PROTOCOL_VERSION, pid, boottime_ns: String(anchor.boottimeNs), wall_ms: anchor.wallMs, sensor };
  return encodeFrame(FrameType.HELLO, Buffer.from(JSON.stringify(hello)));
}

export interface DecoderCounters {
  frames: number;
  checksum_errors: number;
  oversized: number;
}

/**
 * Reassembles frames from stream chunks. A frame whose checksum fails is dropped and counted; an
 * impossible length means the stream is out of step, which is fatal for the connection (the caller
 * reconnects), since nothing after it can be trusted.
 */
export class FrameDecoder {
  readonly counters: DecoderCounters = { frames: 0, checksum_errors: 0, oversized: 0 };
  // Chunks as the socket delivered them (64 KiB each): a 1 MiB frame is copied once, into its own
  // buffer, when it is complete, rather than re-concatenated with every chunk (quadratic).
  #chunks: Buffer[] = [];
  #queued = 0;

  /**
   * Returns the complete, intact frames in `chunk`; throws on a length no collector can send.
   * `borrowed`: the chunk's memory is reused after this call (a socket's read buffer), so the part
   * of it that starts the next frame is copied before returning.
   */
  push(chunk: Buffer, borrowed = false): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.#queued >= 8) {
      const head = this.#peek(8);
      const length = head.readUInt32LE(0);
      if (length < 1 || length > MAX_FRAME_BYTES) {
        this.counters.oversized++;
        throw new RangeError(`frame length ${length} is impossible: the stream is out of step`);
      }
      if (this.#queued < 8 + length) break;
      const sum = head.readUInt32LE(4);
      this.#consume(8, () => {});
      let type = 0;
      this.#consume(1, (b) => (type = b[0]!));
      // A copy with an ArrayBuffer of its own (never Node's shared pool), so the agent can transfer
      // it to its store worker instead of copying it again. The checksum is computed as it copies.
      const own = new Uint8Array(length - 1);
      let at = 0;
      let crc = crc32(Uint8Array.of(type));
      this.#consume(length - 1, (piece) => {
        own.set(piece, at);
        at += piece.length;
        crc = crc32(piece, crc);
      });
      if (crc !== sum) {
        this.counters.checksum_errors++;
        continue;
      }
      this.counters.frames++;
      frames.push({ type, payload: Buffer.from(own.buffer) });
    }
    if (borrowed && this.#chunks.length > 0) this.#chunks = this.#chunks.map((c) => (c.buffer === chunk.buffer ? Buffer.from(c) : c));
    return frames;
  }

  /** The first n queued bytes (n is small: a frame header), without consuming them. */
  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first;
    const out = Buffer.alloc(n);
    let at = 0;
    for (const c of this.#chunks) {
      at += c.copy(out, at, 0, Math.min(c.length, n - at));
      if (at === n) break;
    }
    return out;
  }

  /** Hands the next n queued bytes to `sink` piece by piece (views, no copies) and drops them. */
  #consume(n: number, sink: (piece: Buffer) => void): void {
    this.#queued -= n;
    while (n > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= n) {
        sink(first);
        n -= first.length;
        this.#chunks.shift();
      } else {
        sink(first.subarray(0, n));
        this.#chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}

/** Checks a HELLO frame; returns the collector's pid or a reason it is not acceptable. */
export function checkHello(frame: Frame): { ok: true; pid: number; anchor: ClockAnchor; sensor: SensorLayer } | { ok: false; reason: string } {
  if (frame.type !== FrameType.HELLO) return { ok: false, reason: `expected HELLO, got frame type ${frame.type}` };
  let hello: { magic?: unknown; version?: unknown; pid?: unknown; boottime_ns?: unknown; wall_ms?: unknown; sensor?: unknown };
  try {
    hello = JSON.parse(frame.payload.toString('utf8')) as typeof hello;
  } catch {
    return { ok: false, reason: 'HELLO is not JSON' };
  }
  if (hello.magic !== MAGIC) return { ok: false, reason: 'not a DaemonEye collector' };
  if (hello.version !== PROTOCOL_VERSION) {
    return { ok: false, reason: `collector speaks protocol ${String(hello.version)}, this agent ${PROTOCOL_VERSION}: run the same DaemonEye version for both` };
  }
  let boottimeNs = 0n;
  try {
    boottimeNs = BigInt(String(hello.boottime_ns ?? '0'));
  } catch {
    return { ok: false, reason: 'HELLO has a malformed clock anchor' };
  }
  const sensor: SensorLayer = hello.sensor === 'netlink' ? 'netlink' : 'ebpf';
  return { ok: true, pid: Number(hello.pid), anchor: { boottimeNs, wallMs: Number(hello.wall_ms ?? 0) }, sensor };
}
