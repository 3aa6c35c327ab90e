// The agent's end of the collector's packet socket: PacketBatch callbacks (unchanged from the
// capture thread), XDP flow counters, and the capture's pcap_stats, as a Source the network
// monitor plugs into. It holds no privileges: the collector opened the capture.
//
//   const packets = new CollectorPacketSource(collectorPacketSocketPath(dataDir), {
//     onBatch: (b) => monitor.ingest(b),          // b.linktype + b.data (batch-format.ts)
//     onFlows: (flows) => monitor.mergeCounters(flows),
//   });
//   await packets.start();
import { CollectorClient } from '../../collector/collector-client.ts';
import type { Source, SourceHealth } from '../source.ts';
import type { PacketBatch } from './batch-format.ts';
import { decodeFlowRecords, type FlowCounter } from './flow-records.ts';

export interface PacketSourceHandlers {
  readonly onBatch: (batch: PacketBatch) => void;
  readonly onFlows?: (flows: FlowCounter[]) => void;
  /** The collector went away (the agent may restart it and call start() again). */
  readonly onClose?: (reason: string) => void;
  /**
   * Packets were lost since the last report (the capture buffer overflowed, the interface dropped,
   * or the collector shed batches for a stalled agent): the agent raises an alert about itself.
   */
  readonly onDrops?: (lost: CaptureDrops, totals: CaptureDrops) => void;
}

export interface CaptureDrops {
  readonly kernel: number;
  readonly interface: number;
  /** Batches (not packets) the collector dropped while the agent was gone or stalled. */
  readonly forwardBatches: number;
}

function drops(s: Readonly<Record<string, number>>): CaptureDrops {
  return {
    kernel: (s['pcap_dropped_kernel'] ?? 0) + (s['pcap_user_drops'] ?? 0),
    interface: s['pcap_dropped_interface'] ?? 0,
    forwardBatches: s['batches_dropped'] ?? 0,
  };
}

export class CollectorPacketSource implements Source {
  readonly name = 'pcap-collector';
  readonly #socketPath: string;
  readonly #handlers: PacketSourceHandlers;
  #client: CollectorClient | null = null;
  #closedReason: string | null = 'not started';
  #stats: Record<string, number> = {};
  readonly #own = { batches: 0, bytes: 0, flow_records: 0, flow_decode_errors: 0 };

  constructor(socketPath: string, handlers: PacketSourceHandlers) {
    this.#socketPath = socketPath;
    this.#handlers = handlers;
  }

  /** Connects and checks the handshake; rejects with DE_SOURCE_UNAVAILABLE when no collector serves packets there. */
  async start(timeoutMs = 5000): Promise<void> {
    const client = new CollectorClient();
    await client.connect(this.#socketPath, {
      onBatch: () => {},
      onPackets: (linktype, data) => {
        this.#own.batches++;
        this.#own.bytes += data.length;
        this.#handlers.onBatch({ linktype, data });
      },
      onFlows: (records) => {
        const { flows, bad } = decodeFlowRecords(records, client.anchor);
        this.#own.flow_records += flows.length;
        this.#own.flow_decode_errors += bad;
        if (flows.length > 0) this.#handlers.onFlows?.(flows);
      },
      onStats: (s) => {
        const before = drops(this.#stats);
        const now = drops(s);
        this.#stats = s;
        const lost = { kernel: now.kernel - before.kernel, interface: now.interface - before.interface, forwardBatches: now.forwardBatches - before.forwardBatches };
        // A restarted collector starts from zero: only growth is a loss.
        if (lost.kernel > 0 || lost.interface > 0 || lost.forwardBatches > 0) {
          this.#handlers.onDrops?.({ kernel: Math.max(0, lost.kernel), interface: Math.max(0, lost.interface), forwardBatches: Math.max(0, lost.forwardBatches) }, now);
        }
      },
      onClose: (reason) => {
        this.#closedReason = reason;
        this.#handlers.onClose?.(reason);
      },
    }, timeoutMs);
    this.#client = client;
    this.#closedReason = null;
  }

  /** The collector's latest capture counters (pcap_received, pcap_dropped_kernel, ...; xdp_* with XDP). */
  captureStats(): Readonly<Record<string, number>> {
    return this.#stats;
  }

  health(): SourceHealth {
    if (this.#closedReason !== null) return { state: 'unavailable', reason: this.#closedReason };
    const dropped = (this.#stats['pcap_dropped_kernel'] ?? 0) + (this.#stats['pcap_user_drops'] ?? 0) + (this.#stats['batches_dropped'] ?? 0);
    if (dropped > 0) return { state: 'degraded', reason: `${dropped} packets or batches dropped before decoding: raise buffer_size_mb or narrow capture_filter` };
    return { state: 'ok' };
  }

  counters(): Readonly<Record<string, number>> {
    const s = this.#stats;
    return {
      'pcap.received': s['pcap_received'] ?? 0,
      'pcap.dropped_kernel': s['pcap_dropped_kernel'] ?? 0,
      'pcap.dropped_interface': s['pcap_dropped_interface'] ?? 0,
      'pcap.dropped_forward': s['batches_dropped'] ?? 0,
      'pcap.batches': this.#own.batches,
      'pcap.bytes': this.#own.bytes,
      'xdp.flow_records': this.#own.flow_records,
      'xdp.decode_errors.bad_record': this.#own.flow_decode_errors,
    };
  }

  async stop(): Promise<void> {
    this.#client?.close();
    this.#client = null;
    this.#closedReason = 'stopped';
  }
}
