// Real-time kernel events for the agent: connects to the privileged collector (starting it first
// when the agent runs as root), decodes each batch and stores it in one transaction. When eBPF
// cannot run, the agent says why and keeps working on procfs scans (the fallback layer).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CollectorClient } from '../collector/collector-client.ts';
import { collectorSocketPath } from '../collector/socket-path.ts';
import { createBootClock, type BootClock } from '../sources/ebpf/boot-clock.ts';
import { decodeBatch } from '../sources/ebpf/records.ts';
import { KernelEventWriter } from '../store/kernel-event-writer.ts';
import { ProcessTree } from '../normalize/process-tree.ts';
import type { Db } from '../store/open-store.ts';
import type { Logger } from './logger.ts';

const CLI = new URL(`../cli/main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export type KernelLayer = 'ebpf' | 'procfs';

export class KernelEvents {
  readonly #writer: KernelEventWriter;
  readonly #dataDir: string;
  readonly #log: Logger;
  readonly #client = new CollectorClient();
  /** Seeded by every scan (the agent calls tree.seed), kept current by the events. */
  readonly tree = new ProcessTree();
  #collector: ChildProcess | null = null;
  #clock: BootClock | null = null;
  #layer: KernelLayer = 'procfs';
  #reason = 'enterprise.kernel_monitoring.enable_ebpf is off';
  readonly counters: Record<string, number> = { kernel_events: 0, kernel_batches: 0, kernel_decode_errors: 0, kernel_drops: 0, store_errors: 0 };

  readonly #onStored: () => void;

  /** `onStored` runs after each batch is committed: the agent's kernel-event rules run then. */
  readonly #sensorArgs: string[];

  constructor(db: Db, dataDir: string, log: Logger, sensor: { ringMb: number; batchMs: number; maxArgsBytes: number }, onStored: () => void = () => {}) {
    this.#onStored = onStored;
    // The collector gets the agent's effective settings as flags: it may not see the same config file.
    this.#sensorArgs = ['--ring-mb', String(sensor.ringMb), '--batch-ms', String(sensor.batchMs), '--max-args-bytes', String(sensor.maxArgsBytes)];
    this.#writer = new KernelEventWriter(db);
    this.#dataDir = dataDir;
    this.#log = log;
  }

  /** Which layer delivers process events now, and why not eBPF when it doesn't. */
  get status(): { layer: KernelLayer; reason: string } {
    return { layer: this.#layer, reason: this.#layer === 'ebpf' ? `collector pid ${this.#client.collectorPid}` : this.#reason };
  }

  async start(): Promise<void> {
    const socket = collectorSocketPath(this.#dataDir);
    try {
      if (process.getuid?.() === 0) await this.#startCollector(socket);
      await this.#client.connect(socket, {
        onBatch: (b) => this.#ingest(b),
        onStats: (s) => (this.counters['kernel_drops'] = (s['kernel_drops'] ?? 0) + (s['user_drops'] ?? 0) + (s['batches_dropped'] ?? 0)),
        onClose: (reason) => {
          if (this.#layer === 'ebpf') this.#log.warn('kernel events stopped; falling back to procfs scans', { reason });
          this.#layer = 'procfs';
          this.#reason = reason;
        },
      });
      this.#clock = createBootClock(this.#client.anchor.boottimeNs, this.#client.anchor.wallMs);
      this.#layer = 'ebpf';
      this.#log.info('kernel events active', { layer: 'ebpf', collector_pid: this.#client.collectorPid });
    } catch (e) {
      this.#reason = (e as Error).message;
      this.#log.warn('kernel events unavailable; using procfs scans only', { reason: this.#reason });
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    this.#layer = 'procfs';
    this.#reason = 'stopped';
    this.#client.close();
    const child = this.#collector;
    this.#collector = null;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  async #startCollector(socket: string): Promise<void> {
    // An IPC channel ties the collector's life to ours: it exits when we disconnect or die.
    const child = fork(CLI, ['--data-dir', this.#dataDir, 'collector', '--socket', socket, ...this.#sensorArgs], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#collector = child;
    let exit: string | null = null;
    child.once('exit', (code, signal) => (exit = `collector exited (code ${code}, signal ${signal})`));
    for (let i = 0; i < 200 && !existsSync(socket); i++) {
      if (exit !== null) throw new Error(exit);
      await sleep(50);
    }
    if (!existsSync(socket)) throw new Error(`collector did not open ${socket} within 10 s`);
    await sleep(50); // the socket file appears at bind(); listen() follows at once
  }

  #ingest(batch: Buffer): void {
    const { events, security, errors } = decodeBatch(batch);
    for (const n of Object.values(errors)) this.counters['kernel_decode_errors']! += n;
    this.counters['kernel_batches']!++;
    try {
      // The tree follows the batch in kernel order: each exec gets the ancestry it had at that moment.
      this.#writer.write(events, this.#clock!.toEpochMs, (e) => {
        let chain: string | null = null;
        if (e.kind === 'exec') {
          const known = this.tree.ancestry(e.pid);
          chain = JSON.stringify(known.length > 0 ? known : this.tree.ancestryOfParent(e.ppid));
        }
        this.tree.apply(e);
        return chain;
      });
      this.#writer.writeSecurity(security, this.#clock!.toEpochMs);
      this.counters['kernel_events']! += events.length + security.length;
      if (events.length + security.length > 0) this.#onStored();
    } catch (e) {
      this.counters['store_errors']!++;
      this.#log.error('storing kernel events failed', { events: events.length, reason: (e as Error).message });
    }
  }
}
