// A pcapng reader in TypeScript, for the one case libpcap 1.10 refuses: a file whose interfaces
// have different link types ("an interface has a type 101 different from the type of the first
// interface"), as `dumpcap -i eth0 -i wg0` or mergecap write. libpcap stays the reader for
// everything else; this one emits the same PacketBatch layout, starting a new batch whenever the
// link type changes (one link type per batch is the batch-format contract).
//
// Hostile input: every length is checked against the block and the file before it is used; a
// damaged block ends the file with DE_PCAP_FILE after the packets before it were delivered.
import { closeSync, openSync, readSync } from 'node:fs';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { RECORD_HEADER_BYTES, type PacketBatch } from './batch-format.ts';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const OPB = 2; // obsolete packet block
const SPB = 3;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const MAX_BLOCK = 16 * 1024 * 1024;
const MAX_CAPLEN = 262_144;

interface Interface {
  readonly linktype: number;
  /** Timestamp units per second (if_tsresol), and if_tsoffset in seconds. */
  readonly unitsPerSecond: bigint;
  readonly offsetSeconds: bigint;
  readonly snaplen: number;
}

/** Reads blocks with a read-ahead buffer so small blocks do not cost a syscall each. */
class BlockSource {
  readonly #fd: number;
  #buf = Buffer.alloc(1 << 20);
  #start = 0;
  #end = 0;
  #eof = false;
  /** File offset of #buf[#start]. */
  position = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
  }

  /** Ensures n bytes are buffered; false at end of file (fewer remain). */
  ensure(n: number): boolean {
    if (this.#end - this.#start >= n) return true;
    if (n > this.#buf.length) {
      const bigger = Buffer.alloc(Math.max(n, this.#buf.length * 2));
      this.#buf.copy(bigger, 0, this.#start, this.#end);
      this.#buf = bigger;
    } else {
      this.#buf.copy(this.#buf, 0, this.#start, this.#end);
    }
    this.#end -= this.#start;
    this.#start = 0;
    while (!this.#eof && this.#end < n) {
      const got = readSync(this.#fd, this.#buf, this.#end, this.#buf.length - this.#end, null);
      if (got === 0) this.#eof = true;
      this.#end += got;
    }
    return this.#end - this.#start >= n;
  }

  available(): number {
    return this.#end - this.#start;
  }

  view(n: number): Buffer {
    return this.#buf.subarray(this.#start, this.#start + n);
  }

  skip(n: number): void {
    this.#start += n;
    this.position += n;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

function resolution(code: number): bigint {
  // if_tsresol: MSB clear = negative power of 10, set = negative power of 2.
  return code & 0x80 ? 1n << BigInt(code & 0x7f) : 10n ** BigInt(code);
}

export interface PcapngReader {
  /** Link type of the first interface (later batches may differ: each batch carries its own). */
  readonly linktype: number;
  readonly snaplen: number;
  next(): PacketBatch | null;
  position(): number;
  close(): void;
}

/** Opens a pcapng file; throws DE_PCAP_FILE when it is not one or its first section is damaged. */
export function openPcapng(path: string, batchBytes = 1 << 20): PcapngReader {
  const fail = (why: string, at: number): DaemonEyeError => new DaemonEyeError('DE_PCAP_FILE', `${path}: ${why} at byte ${at}`);
  let src: BlockSource;
  try {
    src = new BlockSource(path);
  } catch (e) {
    throw new DaemonEyeError('DE_PCAP_FILE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let little = true;
  let interfaces: Interface[] = [];
  let pendingError: DaemonEyeError | null = null;
  let done = false;
  let carry: { linktype: number; record: Buffer } | null = null;

  const u32 = (b: Buffer, at: number): number => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const u16 = (b: Buffer, at: number): number => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));

  /** Reads one block; returns its type and body view (valid until the next call), or null at EOF. */
  const readBlock = (): { type: number; block: Buffer } | null => {
    if (!src.ensure(12)) {
      if (src.available() > 0) throw fail('truncated block header', src.position);
      return null;
    }
    const head = src.view(12);
    if (head.readUInt32LE(0) === SHB) {
      // The section header's byte-order magic decides how every later number is read.
      const magic = head.readUInt32LE(8);
      if (magic === BYTE_ORDER_MAGIC) little = true;
      else if (magic === 0x4d3c2b1a) little = false;
      else throw fail('section header with a bad byte-order magic', src.position);
    }
    const type = u32(head, 0);
    const total = u32(head, 4);
    if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) throw fail(`impossible block length ${total}`, src.position);
    if (!src.ensure(total)) throw fail(`block of ${total} bytes cut short by the end of the file`, src.position);
    const block = src.view(total);
    if (u32(block, total - 4) !== total) throw fail('block lengths at its start and end differ', src.position);
    return { type, block };
  };

  const parseIdb = (block: Buffer, at: number): Interface => {
    if (block.length < 20) throw fail('interface description block too short', at);
    let unitsPerSecond = 1_000_000n;
    let offsetSeconds = 0n;
    // Options: code u16, length u16, value padded to 4; opt_endofopt (0) ends them.
    for (let o = 16; o + 4 <= block.length - 4;) {
      const code = u16(block, o);
      const len = u16(block, o + 2);
      if (code === 0) break;
      if (o + 4 + len > block.length - 4) throw fail('interface option runs past its block', at);
      if (code === 9 && len >= 1) unitsPerSecond = resolution(block[o + 4]!);
      if (code === 14 && len >= 8) offsetSeconds = little ? block.readBigInt64LE(o + 4) : block.readBigInt64BE(o + 4);
      o += 4 + ((len + 3) & ~3);
    }
    if (unitsPerSecond === 0n || unitsPerSecond > 10n ** 18n) throw fail('unusable timestamp resolution', at);
    return { linktype: u16(block, 8), snaplen: u32(block, 12), unitsPerSecond, offsetSeconds };
  };

  const record = (iface: Interface, tsUnits: bigint, caplen: number, wirelen: number, data: Buffer): Buffer => {
    const sec = tsUnits / iface.unitsPerSecond + iface.offsetSeconds;
    const nsec = ((tsUnits % iface.unitsPerSecond) * 1_000_000_000n) / iface.unitsPerSecond;
    const out = Buffer.alloc(RECORD_HEADER_BYTES + ((caplen + 3) & ~3));
    out.writeUInt32LE(Number(BigInt.asUintN(32, sec)), 0);
    out.writeUInt32LE(Number(nsec), 4);
    out.writeUInt32LE(caplen, 8);
    out.writeUInt32LE(wirelen >>> 0, 12);
    data.copy(out, RECORD_HEADER_BYTES, 0, caplen);
    return out;
  };

  /** The next packet record and its link type, or null at the end; throws DE_PCAP_FILE on damage. */
  const nextPacket = (): { linktype: number; record: Buffer } | null => {
    for (;;) {
      const at = src.position;
      const b = readBlock();
      if (b === null) return null;
      const { type, block } = b;
      let out: { linktype: number; record: Buffer } | null = null;
      if (type === SHB) interfaces = [];
      else if (type === IDB) interfaces.push(parseIdb(block, at));
      else if (type === EPB || type === OPB) {
        if (block.length < 32) throw fail('packet block too short', at);
        const id = type === EPB ? u32(block, 8) : u16(block, 8);
        const iface = interfaces[id];
        if (iface === undefined) throw fail(`packet names interface ${id}, which was never described`, at);
        const caplen = u32(block, 20);
        if (caplen > MAX_CAPLEN || 28 + caplen > block.length - 4) throw fail(`packet claims ${caplen} captured bytes, more than its block holds`, at);
        const ts = (BigInt(u32(block, 12)) << 32n) | BigInt(u32(block, 16));
        out = { linktype: iface.linktype, record: record(iface, ts, caplen, u32(block, 24), block.subarray(28)) };
      } else if (type === SPB) {
        const iface = interfaces[0];
        if (iface === undefined) throw fail('simple packet block before any interface', at);
        if (block.length < 16) throw fail('simple packet block too short', at);
        const wirelen = u32(block, 8);
        const caplen = Math.min(wirelen, block.length - 16, iface.snaplen || MAX_CAPLEN, MAX_CAPLEN);
        out = { linktype: iface.linktype, record: record(iface, 0n, caplen, wirelen, block.subarray(12)) };
      }
      src.skip(block.length);
      if (out !== null) return out;
    }
  };

  // The first section and interface come before any packet: read up to the first packet now, so
  // a file that is not pcapng fails here and the first link type is known.
  let first: { linktype: number; record: Buffer } | null;
  try {
    if (!src.ensure(12) || src.view(4).readUInt32LE(0) !== SHB) throw fail('not a pcapng file (no section header block)', 0);
    first = nextPacket();
  } catch (e) {
    src.close();
    throw e;
  }
  carry = first;
  const firstIface = interfaces[0];

  return {
    linktype: first?.linktype ?? firstIface?.linktype ?? 1,
    snaplen: firstIface?.snaplen ?? 0,
    position: () => src.position,
    close: () => {
      if (!done) src.close();
      done = true;
    },
    next(): PacketBatch | null {
      if (pendingError !== null) {
        const e = pendingError;
        pendingError = null;
        throw e;
      }
      if (done && carry === null) return null;
      const parts: Buffer[] = [];
      let size = 0;
      let linktype = carry?.linktype ?? -1;
      while (size < batchBytes) {
        let p: { linktype: number; record: Buffer } | null;
        if (carry !== null) {
          p = carry;
          carry = null;
        } else {
          if (done) break;
          try {
            p = nextPacket();
          } catch (e) {
            pendingError = e as DaemonEyeError;
            break;
          }
        }
        if (p === null) {
          if (!done) src.close();
          done = true;
          break;
        }
        if (linktype === -1) linktype = p.linktype;
        if (p.linktype !== linktype) {
          carry = p; // the next batch starts with it
          break;
        }
        parts.push(p.record);
        size += p.record.length;
      }
      if (parts.length === 0) {
        if (pendingError !== null) return this.next();
        return null;
      }
      return { linktype, data: Buffer.concat(parts, size) };
    },
  };
}

/** Distinct link types of the interfaces described in the first `scanBytes` of a pcapng file. */
export function pcapngLinktypes(path: string, scanBytes = 1 << 20): Set<number> {
  const types = new Set<number>();
  let src: BlockSource | null = null;
  try {
    src = new BlockSource(path);
    let little = true;
    while (src.position < scanBytes && src.ensure(12)) {
      const head = src.view(12);
      if (head.readUInt32LE(0) === SHB) little = head.readUInt32LE(8) === BYTE_ORDER_MAGIC;
      const type = little ? head.readUInt32LE(0) : head.readUInt32BE(0);
      const total = little ? head.readUInt32LE(4) : head.readUInt32BE(4);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK || !src.ensure(total)) break;
      if (type === IDB && total >= 20) {
        const b = src.view(total);
        types.add(little ? b.readUInt16LE(8) : b.readUInt16BE(8));
      }
      src.skip(total);
    }
  } catch {
    // unreadable: libpcap will say why
  } finally {
    src?.close();
  }
  return types;
}
