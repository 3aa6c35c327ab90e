// The network monitor: packet batches in (live capture through the collector, or a file), rows out.
// Decodes and tracks flows (PacketAnalyzer), attributes each record to a process, and writes each
// batch's records in one transaction. The agent runs it on a worker thread (monitor-worker.ts) so
// packet decoding never delays the event loop; `daemoneye net read` runs it inline.
import type { PacketBatch } from '../sources/pcap/batch-format.ts';
import type { Db } from '../store/open-store.ts';
import { PacketAnalyzer, type AnalyzerOptions } from './analyzer.ts';
import { chain, NO_ATTRIBUTION, type Attributor } from './attribution/attributor.ts';
import { KernelAttributor } from './attribution/kernel-attributor.ts';
import { ProcfsAttributor } from './attribution/procfs-attributor.linux.ts';
import { nonZero, totalDecodeErrors } from './decode/decode-errors.ts';
import type { AnalyzerOutput, Endpoints } from './records.ts';
import { NetworkStoreWriter, type StoredCounts } from './store-writer.ts';
import type { FlowCounter } from '../sources/pcap/flow-records.ts';
import { BoundedMap } from './attribution/endpoint-key.ts';
import { DEFAULT_FLOW_OPTIONS } from './flows/flow-table.ts';
import { XdpFlowTable, type FlowContent } from './flows/xdp-flow-table.ts';

export interface NetworkMonitorOptions extends AnalyzerOptions {
  /** `live:IFACE` or `file:PATH`, stored in every row's capture_source. */
  readonly source: string;
  /** `host`: kernel events, then /proc (live capture on this host). `none`: offline files from elsewhere. */
  readonly attribution: 'host' | 'none';
  /** Records are written once this many accumulate, or on tick/flush (bounds memory and latency). */
  readonly writeEvery?: number;
  /**
   * `packets` (default): flows from the captured packets. `xdp`: flows from the kernel's XDP/TC
   * counters (mergeCounters), every packet counted even when the capture filter keeps only content;
   * the packet path then only names each flow's application and server.
   */
  readonly flowSource?: 'packets' | 'xdp';
}

export interface NetworkCounters {
  readonly packets: number;
  readonly bytes: number;
  readonly batches: number;
  readonly decode_errors: number;
  readonly flows_active: number;
  readonly flows_exported: number;
  readonly flow_evictions: number;
  readonly rows_written: number;
  readonly rows_attributed: number;
}

export class NetworkMonitor {
  readonly analyzer: PacketAnalyzer;
  readonly #writer: NetworkStoreWriter;
  readonly #attributor: Attributor;
  readonly #source: string;
  readonly #writeEvery: number;
  #pending: AnalyzerOutput = { flows: [], dns: [], tls: [], http: [] };
  #pendingCount = 0;
  #written = 0;
  #attributed = 0;
  readonly #xdp: XdpFlowTable | null;
  readonly #content = new BoundedMap<string, FlowContent>(100_000);

  constructor(db: Db, options: NetworkMonitorOptions) {
    this.analyzer = new PacketAnalyzer({ ...options, trackNewFlows: options.attribution === 'host' });
    this.#writer = new NetworkStoreWriter(db);
    this.#source = options.source;
    this.#writeEvery = options.writeEvery ?? 2_000;
    this.#attributor = options.attribution === 'host' ? chain(new KernelAttributor(db), new ProcfsAttributor()) : NO_ATTRIBUTION;
    this.#xdp = options.flowSource === 'xdp'
      ? new XdpFlowTable({ ...DEFAULT_FLOW_OPTIONS, ...options }, (r) => {
        this.#pending.flows.push(r);
        this.#pendingCount++;
      }, (key) => this.#content.get(key))
      : null;
  }

  /** XDP/TC counters from the collector (flowSource `xdp`): cumulative per direction. */
  mergeCounters(flows: readonly FlowCounter[], nowMs = Date.now()): StoredCounts | null {
    this.#xdp?.update(flows, nowMs);
    return this.#pendingCount >= this.#writeEvery ? this.write() : null;
  }

  /** Decodes one batch; writes when enough records are waiting. Returns what was written, if anything. */
  ingest(batch: PacketBatch): StoredCounts | null {
    this.analyzer.ingest(batch);
    this.#attributeNewFlows();
    this.#collect();
    return this.#pendingCount >= this.#writeEvery ? this.write() : null;
  }

  /** Live capture: expire idle flows and unanswered DNS as of wall time, then write what is waiting. */
  tick(nowMs = Date.now()): StoredCounts | null {
    this.analyzer.tick(nowMs);
    this.#collect();
    this.#xdp?.update([], nowMs);
    return this.#pendingCount > 0 ? this.write() : null;
  }

  /** End of capture: export every open flow and write everything. */
  flush(): StoredCounts | null {
    this.analyzer.flush();
    this.#collect();
    this.#xdp?.flush();
    return this.#pendingCount > 0 ? this.write() : null;
  }

  /** Writes the waiting records in one transaction. */
  write(): StoredCounts {
    const out = this.#pending;
    this.#pending = { flows: [], dns: [], tls: [], http: [] };
    this.#pendingCount = 0;
    // Attribute the records that are about application traffic first: they are written while
    // the socket is usually still open, and the flow record borrows their answer.
    const all: Endpoints[] = [...out.dns, ...out.tls, ...out.http, ...out.flows];
    this.#attributor.refresh?.(all);
    const reordered: AnalyzerOutput = { dns: out.dns, tls: out.tls, http: out.http, flows: out.flows };
    const counts = this.#writer.write(reordered, this.#source, this.#attributor);
    this.#written += counts.flows + counts.dns + counts.tls + counts.http;
    this.#attributed += counts.attributed;
    return counts;
  }

  counters(): NetworkCounters {
    const a = this.analyzer;
    return {
      packets: a.counters.packets, bytes: a.counters.bytes, batches: a.counters.batches, decode_errors: totalDecodeErrors(a.errors),
      flows_active: a.flows.size, flows_exported: a.flows.counters.flowsExported, flow_evictions: a.flows.counters.evictions,
      rows_written: this.#written, rows_attributed: this.#attributed,
    };
  }

  decodeErrors(): Record<string, number> {
    return nonZero(this.analyzer.errors);
  }

  /**
   * Live capture: look new flows up while their sockets are still open (within one batch, ~100 ms,
   * of the first packet); the attributors remember the answer for when the flow's rows are written.
   */
  #attributeNewFlows(): void {
    const fresh = this.analyzer.takeNewFlows();
    if (fresh.length === 0) return;
    this.#attributor.refresh?.(fresh);
    for (const e of fresh) this.#attributor.attribute(e, 0);
  }

  #collect(): void {
    const out = this.analyzer.drain();
    const n = out.flows.length + out.dns.length + out.tls.length + out.http.length;
    if (n === 0) return;
    // Loops, not push(...spread): a file's last flush can export hundreds of thousands of flows.
    if (this.#xdp !== null) {
      // XDP counts the flows; the packet path's partial flows only lend their content.
      for (const r of out.flows) {
        if (r.application !== null) this.#content.set(XdpFlowTable.key(r.protocol, r.clientAddress, r.clientPort, r.serverAddress, r.serverPort), r);
      }
      this.#pendingCount -= out.flows.length;
    } else for (const r of out.flows) this.#pending.flows.push(r);
    for (const r of out.dns) this.#pending.dns.push(r);
    for (const r of out.tls) this.#pending.tls.push(r);
    for (const r of out.http) this.#pending.http.push(r);
    this.#pendingCount += n;
  }
}
