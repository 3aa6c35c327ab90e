// Reads pcap and pcapng files through libpcap (pcap_open_offline) into PacketBatch buffers of the
// same layout live capture produces, so `daemoneye net read` and the live path share one decoder.
// A pcapng with interfaces of different link types, which libpcap 1.10 refuses, goes to our own
// pcapng reader (pcapng-reader.ts) instead.
// Reading is synchronous per batch (about 1 MiB, a millisecond or two of libpcap work), so the
// async iterator yields to the event loop between batches without a thread of its own.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { PacketBatch } from './batch-format.ts';
import { asDaemonEyeError, loadPcapAddon, type PcapAddon } from './native-pcap.ts';
import { openPcapng, pcapngLinktypes, type PcapngReader } from './pcapng-reader.ts';

export interface OfflineOptions {
  /** Batch size in bytes (default 1 MiB). */
  readonly batchBytes?: number;
  /** Addon override (tests). */
  readonly addon?: PcapAddon;
}

export interface OfflineCapture extends AsyncIterable<PacketBatch>, Iterable<PacketBatch> {
  readonly path: string;
  /**
   * DLT_* link type of the file (LinkType in batch-format.ts). A pcapng whose interfaces differ
   * (dumpcap -i eth0 -i wg0) is read by our own pcapng reader: there each batch carries its own
   * link type, and this is the first interface's.
   */
  readonly linktype: number;
  /** Its name per pcap-linktype(7), e.g. "EN10MB"; null if libpcap does not know it. */
  readonly linktypeName: string | null;
  readonly snaplen: number;
  readonly format: 'pcap' | 'pcapng';
  /** File size in bytes (for progress), or -1 for a non-regular file. */
  readonly size: number;
  /** Bytes consumed so far (for progress), or -1 when unknown. */
  position(): number;
  /** Next batch, or null at the end of the file. Throws DE_PCAP_FILE on a damaged file, after the packets before the damage. */
  next(): PacketBatch | null;
  /** Releases the file; iteration also closes it at the end or on break. Safe to call twice. */
  close(): void;
}

const PCAPNG_MAGIC = 0x0a0d0d0a;

/** libpcap's reader (pcap_open_offline): every pcap and pcapng variant libpcap knows. */
function libpcapReader(addon: PcapAddon, path: string, batchBytes: number): PcapngReader {
  let opened: ReturnType<PcapAddon['openOffline']>;
  try {
    opened = addon.openOffline(path);
  } catch (e) {
    throw new DaemonEyeError('DE_PCAP_FILE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const handle = opened.handle;
  return {
    linktype: opened.linktype,
    snaplen: opened.snaplen,
    position: () => addon.offlinePosition(handle),
    close: () => addon.closeOffline(handle),
    next: () => {
      let data: Buffer | null;
      try {
        data = addon.readOffline(handle, batchBytes);
      } catch (e) {
        const err = asDaemonEyeError(e);
        if (err instanceof DaemonEyeError) throw new DaemonEyeError(err.code, `${path}: ${err.message}`, { cause: e });
        throw err;
      }
      return data === null ? null : { linktype: opened.linktype, data };
    },
  };
}

function sniffFormat(path: string): 'pcap' | 'pcapng' {
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    readSync(fd, head, 0, 4, 0);
  } catch {
    return 'pcap';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return head.readUInt32LE(0) === PCAPNG_MAGIC ? 'pcapng' : 'pcap';
}

/**
 * Opens a pcap or pcapng capture file. Throws DE_PCAP_FILE (missing, unreadable, not a capture
 * file) or DE_SOURCE_UNAVAILABLE (the addon is not built).
 *
 * ```ts
 * const file = openOffline('trace.pcapng');
 * for await (const batch of file) forEachPacket(batch.data, (p) => decode(batch.data, p, file.linktype));
 * ```
 */
export function openOffline(path: string, options: OfflineOptions = {}): OfflineCapture {
  const addon = options.addon ?? loadPcapAddon();
  const batchBytes = options.batchBytes ?? 1 << 20;
  let size = -1;
  try {
    const st = statSync(path);
    if (st.isFile()) size = st.size;
  } catch {
    // stdin ("-") or a missing file (the reader says which): progress is unknown.
  }
  const format = path === '-' ? 'pcap' : sniffFormat(path);
  const reader = format === 'pcapng' && pcapngLinktypes(path).size > 1
    ? openPcapng(path, batchBytes)
    : libpcapReader(addon, path, batchBytes);
  let open = true;
  const close = (): void => {
    if (open) reader.close();
    open = false;
  };
  const next = (): PacketBatch | null => {
    if (!open) return null;
    let batch: PacketBatch | null;
    try {
      batch = reader.next();
    } catch (e) {
      close();
      throw e;
    }
    if (batch === null) close();
    return batch;
  };
  function* iterate(): Generator<PacketBatch> {
    try {
      for (let b = next(); b !== null; b = next()) yield b;
    } finally {
      close();
    }
  }
  async function* iterateAsync(): AsyncGenerator<PacketBatch> {
    try {
      for (let b = next(); b !== null; b = next()) {
        yield b;
        // Let timers and signals run between batches of a long file.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      close();
    }
  }
  return {
    path,
    linktype: reader.linktype,
    linktypeName: addon.linktypeName(reader.linktype),
    snaplen: reader.snaplen,
    format,
    size,
    position: () => (open ? reader.position() : size),
    next,
    close,
    [Symbol.iterator]: iterate,
    [Symbol.asyncIterator]: iterateAsync,
  };
}
