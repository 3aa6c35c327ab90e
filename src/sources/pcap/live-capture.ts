// Live capture through the addon: libpcap's pcap_dispatch runs on the addon's worker thread and
// this class receives ~1 MiB PacketBatch buffers on the event loop. It is a Source (health,
// counters, stop) so the collector and `daemoneye net capture` drive it the same way.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { Source, SourceHealth } from '../source.ts';
import type { PacketBatch } from './batch-format.ts';
import { filterError } from './filter-check.ts';
import { asDaemonEyeError, loadPcapAddon, type NativeHandle, type NativeLiveStats, type PcapAddon } from './native-pcap.ts';

/**
 * max_packet_size is the largest network-layer packet kept whole; the snap length adds room for the
 * link header (Ethernet 14, two VLAN tags 8, Linux cooked v2 20), so a full-MTU packet keeps its
 * last bytes and a TLS ClientHello that fills a segment keeps its fingerprints.
 */
export const LINK_HEADER_ALLOWANCE = 64;
export const snaplenFor = (maxPacketSize: number): number => maxPacketSize + LINK_HEADER_ALLOWANCE;

export interface LiveCaptureOptions {
  /** Interface name; null/undefined/'any' captures on every interface (Linux cooked headers). */
  readonly interface?: string | null;
  /** BPF filter expression (pcap-filter(7)); null captures everything. */
  readonly filter?: string | null;
  /** Bytes kept per packet, link header included (snaplenFor(max_packet_size)). Default 1564. */
  readonly snaplen?: number;
  /** Put the interface in promiscuous mode while capturing (cleared on stop). Default true. */
  readonly promiscuous?: boolean;
  /** Kernel capture buffer in MiB (buffer_size_mb). Default 100. */
  readonly bufferMb?: number;
  /** Kernel block timeout: the longest a packet waits before user space sees it. Default 100 ms. */
  readonly timeoutMs?: number;
  /** Batch size handed to JS. Default 1 MiB. */
  readonly batchBytes?: number;
  /** Stop after this many packets (the `--count` of `net capture`). */
  readonly maxPackets?: number;
  /** Also write every packet to this pcap file (pcap_dump, on the capture thread). */
  readonly writePath?: string;
  readonly addon?: PcapAddon;
}

export interface CaptureStats extends NativeLiveStats {}

export interface LiveCaptureHandlers {
  readonly onBatch: (batch: PacketBatch) => void;
  /** The capture ended on its own: maxPackets reached (error undefined) or libpcap failed. */
  readonly onEnd?: (error?: DaemonEyeError) => void;
}

export class LiveCapture implements Source {
  readonly name = 'pcap';
  readonly linktype: number;
  readonly interfaceName: string;
  /** libpcap's activation warning (e.g. promiscuous mode not supported), '' when none. */
  readonly warning: string;
  readonly #addon: PcapAddon;
  #handle: NativeHandle | null;
  /** Kept after stop: the addon's counters outlive the capture (batches still land after close). */
  #stopped: NativeHandle | null = null;
  #ended: DaemonEyeError | null = null;

  /**
   * Opens and starts the capture. Throws DE_PCAP_NO_DEVICE, DE_PCAP_PERMISSION, DE_PCAP_OPEN,
   * DE_PCAP_FILTER (with the column and token at fault), DE_PCAP_WRITE or DE_PCAP_ARGS.
   */
  constructor(options: LiveCaptureOptions, handlers: LiveCaptureHandlers) {
    this.#addon = options.addon ?? loadPcapAddon();
    this.interfaceName = options.interface ?? 'any';
    const addon = this.#addon;
    let linktype = 0;
    const onNative = (data: Buffer | null, endError?: string | null): void => {
      if (data !== null) {
        handlers.onBatch({ linktype, data });
        return;
      }
      if (endError) this.#ended = new DaemonEyeError('DE_PCAP_CAPTURE', `capture on ${this.interfaceName} stopped: ${endError}`);
      handlers.onEnd?.(this.#ended ?? undefined);
    };
    let opened: ReturnType<PcapAddon['openLive']>;
    try {
      opened = addon.openLive({
        device: this.interfaceName,
        filter: options.filter ?? '',
        snaplen: options.snaplen ?? snaplenFor(1500),
        // libpcap cannot make the "any" pseudo-device promiscuous; asking only earns a warning.
        promisc: (options.promiscuous ?? true) && this.interfaceName !== 'any',
        bufferBytes: Math.min(4095, options.bufferMb ?? 100) * 1024 * 1024,
        timeoutMs: options.timeoutMs ?? 100,
        batchBytes: options.batchBytes ?? 1 << 20,
        maxPackets: options.maxPackets ?? 0,
        writePath: options.writePath ?? '',
      }, onNative);
    } catch (e) {
      const err = e as Error & { code?: string; linktype?: number };
      if (err.code === 'DE_PCAP_FILTER' && options.filter) throw filterError(options.filter, err.message, err.linktype ?? 1, addon, e);
      throw asDaemonEyeError(e);
    }
    linktype = opened.linktype;
    this.linktype = opened.linktype;
    this.warning = opened.warning;
    this.#handle = opened.handle;
  }

  /** pcap_stats and the addon's own counters, refreshed by the capture thread every 250 ms. */
  stats(): CaptureStats {
    return this.#addon.stats((this.#handle ?? this.#stopped)!);
  }

  health(): SourceHealth {
    if (this.#ended !== null) return { state: 'unavailable', reason: this.#ended.message };
    const s = this.stats();
    if (s.droppedKernel + s.userDrops > 0) return { state: 'degraded', reason: `${s.droppedKernel + s.userDrops} packets dropped (capture buffer full): raise buffer_size_mb or narrow capture_filter` };
    return { state: 'ok' };
  }

  counters(): Readonly<Record<string, number>> {
    const s = this.stats();
    return {
      'pcap.received': s.received,
      'pcap.dropped_kernel': s.droppedKernel,
      'pcap.dropped_interface': s.droppedInterface,
      'pcap.delivered': s.delivered,
      'pcap.bytes': s.bytes,
      'pcap.batches': s.batches,
      'pcap.user_drops': s.userDrops,
    };
  }

  /**
   * Stops the capture thread (batches it still holds are delivered first), writes the last stats,
   * closes the handle: promiscuous mode is cleared and a --write file is flushed. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.#handle === null) return;
    const handle = this.#handle;
    this.#handle = null;
    this.#addon.closeLive(handle);
    // The capture thread took its last pcap_stats before exiting; the handle's counters outlive close.
    this.#stopped = handle;
    // Batches already queued to the event loop arrive on the next ticks; let them land.
    await new Promise<void>((r) => setImmediate(r));
  }
}
