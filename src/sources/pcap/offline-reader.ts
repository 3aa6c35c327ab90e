// Reads pcap and pcapng files through libpcap (pcap_open_offline) into PacketBatch buffers of the
// same layout live capture produces, so `daemoneye net read` and the live path share one decoder.
// Reading is synchronous per batch (about 1 MiB, a millisecond or two of libpcap work), so the
// async iterator yields to the event loop between batches without a thread of its own.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { PacketBatch } from './batch-format.ts';
import { asDaemonEyeError, loadPcapAddon, type NativeHandle, type PcapAddon } from './native-pcap.ts';

export interface OfflineOptions {
  /** Batch size in bytes (default 1 MiB). */
  readonly batchBytes?: number;
  /** Addon override (tests). */
  readonly addon?: PcapAddon;
}

export interface OfflineCapture extends AsyncIterable<PacketBatch>, Iterable<PacketBatch> {
  readonly path: string;
  /** DLT_* link type of every packet in the file (LinkType in batch-format.ts). */
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
  let opened: ReturnType<PcapAddon['openOffline']>;
  try {
    opened = addon.openOffline(path);
  } catch (e) {
    throw new DaemonEyeError('DE_PCAP_FILE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let handle: NativeHandle | null = opened.handle;
  let size = -1;
  try {
    const st = statSync(path);
    if (st.isFile()) size = st.size;
  } catch {
    // stdin ("-") or a path that vanished after opening: progress is unknown, reading still works.
  }
  const format = path === '-' ? 'pcap' : sniffFormat(path);
  const linktype = opened.linktype;

  const close = (): void => {
    if (handle !== null) addon.closeOffline(handle);
    handle = null;
  };
  const next = (): PacketBatch | null => {
    if (handle === null) return null;
    let data: Buffer | null;
    try {
      data = addon.readOffline(handle, batchBytes);
    } catch (e) {
      close();
      const err = asDaemonEyeError(e);
      if (err instanceof DaemonEyeError) throw new DaemonEyeError(err.code, `${path}: ${err.message}`, { cause: e });
      throw err;
    }
    if (data === null) {
      close();
      return null;
    }
    return { linktype, data };
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
    linktype,
    linktypeName: addon.linktypeName(linktype),
    snaplen: opened.snaplen,
    format,
    size,
    position: () => (handle === null ? size : addon.offlinePosition(handle)),
    next,
    close,
    [Symbol.iterator]: iterate,
    [Symbol.asyncIterator]: iterateAsync,
  };
}
