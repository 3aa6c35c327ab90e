// The agent's packet pipeline: batches from the collector's packet socket (the collector holds the
// capture privileges) go to the network monitor worker; each stored batch prompts the network rules.
// A batch is transferred to the worker, so the main thread only moves buffers.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../agent/logger.ts';
import { collectorPacketSocketPath } from '../collector/socket-path.ts';
import { CollectorPacketSource, type CaptureDrops } from '../sources/pcap/collector-packet-source.ts';
import type { PacketBatch } from '../sources/pcap/batch-format.ts';
import type { FromNetworkWorker, ToNetworkWorker } from './monitor-worker.ts';
import type { NetworkCounters } from './monitor.ts';

const WORKER = new URL(`./monitor-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
/** Batches waiting for the worker beyond this are dropped and counted (bounded memory, ~64 MiB). */
const MAX_IN_FLIGHT = 64;
/** How often to try the collector's packet socket again while it is not there. */
const RETRY_MS = 1_000;

export class NetworkPackets {
  readonly #dbPath: string;
  readonly #dataDir: string;
  readonly #log: Logger;
  readonly #onStored: () => void;
  #worker: Worker | null = null;
  #source: CollectorPacketSource | null = null;
  #inFlight = 0;
  #dropped = 0;
  #lastDropWarning = 0;
  #counters: NetworkCounters | null = null;
  #decodeErrors: Record<string, number> = {};
  #closed: Promise<void> | null = null;

  readonly #onDrops: ((lost: CaptureDrops, totals: CaptureDrops) => void) | undefined;

  /** `onDrops`: the capture lost packets (pcap_stats grew) or the collector shed batches. */
  constructor(dbPath: string, dataDir: string, log: Logger, onStored: () => void, onDrops?: (lost: CaptureDrops, totals: CaptureDrops) => void) {
    this.#onDrops = onDrops;
    this.#dbPath = dbPath;
    this.#dataDir = dataDir;
    this.#log = log;
    this.#onStored = onStored;
  }

  /** Starts the worker and connects to the collector's packet socket (retrying); a missing collector is logged, not fatal. */
  async start(interfaceName: string | null, flowAccounting: 'off' | 'xdp' = 'off'): Promise<void> {
    const worker = new Worker(WORKER);
    this.#worker = worker;
    let resolveClosed: () => void = () => {};
    this.#closed = new Promise((r) => (resolveClosed = r));
    worker.on('message', (m: FromNetworkWorker) => {
      if (m.type === 'stored' || m.type === 'counters') {
        this.#counters = m.counters;
        this.#decodeErrors = m.decodeErrors;
      }
      if ((m.type === 'stored' || m.type === 'counters') && m.batchDone) this.#inFlight = Math.max(0, this.#inFlight - 1);
      if (m.type === 'stored') this.#onStored();
      else if (m.type === 'error') this.#log.error('network monitor failed on a batch', { reason: m.message });
      else if (m.type === 'closed') resolveClosed();
    });
    worker.on('error', (e) => this.#log.error('network monitor worker died', { reason: e.message }));
    worker.on('exit', () => resolveClosed());
    this.#post({ type: 'open', dbPath: this.#dbPath, options: {
      source: `live:${interfaceName ?? 'any'}`, attribution: 'host', flowSource: flowAccounting === 'xdp' ? 'xdp' : 'packets',
    } });
    this.#interface = interfaceName;
    // The collector opens the capture after its kernel sensor, so its packet socket may appear a
    // moment later than the agent gets here: connect in the background and retry until it serves.
    this.#connectLoop = this.#connect();
  }

  #interface: string | null = null;
  #stopping = false;
  #connectLoop: Promise<void> = Promise.resolve();

  async #connect(): Promise<void> {
    let warned = false;
    while (!this.#stopping) {
      const source = new CollectorPacketSource(collectorPacketSocketPath(this.#dataDir), {
        onBatch: (b) => this.ingest(b),
        onFlows: (flows) => this.#post({ type: 'flows', flows }),
        ...(this.#onDrops === undefined ? {} : { onDrops: this.#onDrops }),
        onClose: (reason) => {
          if (this.#stopping || this.#source !== source) return;
          this.#log.warn('packet capture stopped; reconnecting', { reason });
          this.#source = null;
          this.#connectLoop = this.#connect();
        },
      });
      try {
        await source.start();
        if (this.#stopping) {
          await source.stop();
          return;
        }
        this.#source = source;
        this.#log.info('packet capture active', { interface: this.#interface ?? 'any' });
        return;
      } catch (e) {
        if (!warned) {
          warned = true;
          this.#log.warn('packet capture not available yet: no collector serves packets; retrying', {
            reason: (e as Error).message, hint: 'run the agent as root with kernel_monitoring.enable_ebpf, or start `daemoneye collector --capture` with the same --data-dir',
          });
        }
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
      }
    }
  }

  /** Hands a batch to the worker; beyond MAX_IN_FLIGHT batches it is dropped and counted. */
  ingest(batch: PacketBatch): void {
    if (this.#worker === null) return;
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.#dropped++;
      // Shedding is reported, never silent (at most once a minute, with the running total).
      const now = Date.now();
      if (now - this.#lastDropWarning >= 60_000) {
        this.#lastDropWarning = now;
        this.#log.warn('network monitor behind: packet batches dropped before decoding', {
          dropped_total: this.#dropped, hint: 'narrow capture_filter, or use flow_accounting: xdp so only content packets reach the agent',
        });
      }
      return;
    }
    this.#inFlight++;
    // The batch usually shares a larger frame buffer: copy it once so the transfer moves only it.
    const own = new Uint8Array(batch.data.byteLength);
    own.set(batch.data);
    this.#worker.postMessage({ type: 'batch', linktype: batch.linktype, batch: own } satisfies ToNetworkWorker, [own.buffer]);
  }

  counters(): Record<string, number> {
    const c = this.#counters;
    const out: Record<string, number> = { 'net.batches_dropped': this.#dropped, ...(this.#source?.counters() ?? {}) };
    if (c !== null) for (const [k, v] of Object.entries(c)) out[`net.${k}`] = v;
    for (const [k, v] of Object.entries(this.#decodeErrors)) out[`net.decode_errors.${k}`] = v;
    return out;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#connectLoop;
    await this.#source?.stop();
    this.#source = null;
    if (this.#worker === null) return;
    this.#post({ type: 'close' });
    await Promise.race([this.#closed, new Promise((r) => setTimeout(r, 5000))]);
    await this.#worker.terminate();
    this.#worker = null;
  }

  #post(m: ToNetworkWorker): void {
    this.#worker?.postMessage(m);
  }
}
