// The packet batch layout: the contract between the capture addon (native/pcap, which writes it),
// the collector (which forwards it unchanged) and the decoders in src/network/ (which read it).
// One Buffer per batch so a batch crosses threads, processes and the collector socket as one copy.
//
// A batch is a run of records, each:
//   u32 LE ts_sec | u32 LE ts_nsec | u32 LE caplen | u32 LE wirelen | caplen bytes | zero pad to 4
// Every packet in a batch has the same link type (a DLT_* number from pcap-linktype(7)), carried
// beside the buffer, not inside it.

export const RECORD_HEADER_BYTES = 16;

/** DLT_* numbers the decoders understand. */
export const LinkType = { NULL: 0, EN10MB: 1, RAW: 101, LINUX_SLL: 113, LINUX_SLL2: 276 } as const;

export interface PacketBatch {
  readonly linktype: number;
  readonly data: Buffer;
}

/** Where a packet sits in its batch: no copy is made, decoders read `batch.data` at these offsets. */
export interface PacketRef {
  tsSec: number;
  tsNsec: number;
  wireLength: number;
  /** Offset of the first captured byte in the batch buffer. */
  offset: number;
  capturedLength: number;
}

/**
 * Walks the records of a batch, reusing one PacketRef (the callback must not keep it).
 * Returns the number of packets seen; a truncated trailing record ends the walk and is reported as
 * `truncated` so a corrupt batch is counted, never thrown.
 */
export function forEachPacket(batch: Buffer, visit: (p: PacketRef) => void): { packets: number; truncated: boolean } {
  const ref: PacketRef = { tsSec: 0, tsNsec: 0, wireLength: 0, offset: 0, capturedLength: 0 };
  let at = 0;
  let packets = 0;
  while (at + RECORD_HEADER_BYTES <= batch.length) {
    const caplen = batch.readUInt32LE(at + 8);
    const start = at + RECORD_HEADER_BYTES;
    if (start + caplen > batch.length) return { packets, truncated: true };
    ref.tsSec = batch.readUInt32LE(at);
    ref.tsNsec = batch.readUInt32LE(at + 4);
    ref.capturedLength = caplen;
    ref.wireLength = batch.readUInt32LE(at + 12);
    ref.offset = start;
    visit(ref);
    packets++;
    at = start + ((caplen + 3) & ~3);
  }
  return { packets, truncated: at !== batch.length && at < batch.length };
}

/** Appends one record (tests and file readers build batches with it). */
export function encodePacketRecord(tsSec: number, tsNsec: number, packet: Buffer, wireLength = packet.length): Buffer {
  const padded = (packet.length + 3) & ~3;
  const out = Buffer.alloc(RECORD_HEADER_BYTES + padded);
  out.writeUInt32LE(tsSec >>> 0, 0);
  out.writeUInt32LE(tsNsec >>> 0, 4);
  out.writeUInt32LE(packet.length, 8);
  out.writeUInt32LE(wireLength, 12);
  packet.copy(out, RECORD_HEADER_BYTES);
  return out;
}
