// Real-time kernel events for the agent: connects to the privileged collector (starting it first
// when the agent runs as root), decodes each batch and stores it in one transaction. Layers, best
// first: eBPF; the netlink process connector when eBPF cannot load (the collector falls back by
// itself and says so in its HELLO: degraded, fork/exec/exit only); procfs scans when there is no
// collector at all. The agent always says which layer is active and why.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectorSocketPath } from '../collector/socket-path.ts';
import { Worker } from 'node:worker_threads';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import type { FromWorker, ToWorker } from './kernel-store-worker.ts';
import type { Logger } from './logger.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const CLI = new URL(`../cli/main${EXT}`, import.meta.url);
const WORKER = new URL(`./kernel-store-worker${EXT}`, import.meta.url);

export type KernelLayer = 'ebpf' | 'netlink' | 'procfs';

export class KernelEvents {
  readonly #dbPath: string;
  #worker: Worker | null = null;
  readonly #dataDir: string;
  readonly #log: Logger;
  #collectorPid = 0;
  #collector: ChildProcess | null = null;
  #layer: KernelLayer = 'procfs';
  #reason = 'enterprise.kernel_monitoring.enable_ebpf is off';
  readonly counters: Record<string, number> = { kernel_events: 0, kernel_batches: 0, kernel_decode_errors: 0, kernel_drops: 0, store_errors: 0 };

  readonly #onStored: () => void;

  /** `onStored` runs after each batch is committed: the agent's kernel-event rules run then. */
  readonly #sensorArgs: string[];

  readonly #collectorEnv: NodeJS.ProcessEnv;

  constructor(dbPath: string, dataDir: string, log: Logger, kernel: DaemonEyeConfig['enterprise']['kernel_monitoring'], onStored: () => void = () => {},
    network?: DaemonEyeConfig['enterprise']['network_monitoring']) {
    this.#onStored = onStored;
    // The agent's own pid is filtered in the kernel too: its store writes and rule children are not
    // what anyone monitors, and recording them would feed back into what it records.
    this.#sensorArgs = ['--ignore-pid', String(process.pid)];
    // The collector may not see the same config file (--config, env): it gets the agent's effective
    // kernel_monitoring block (ring, window, argv size, filters, program, sensor) through the
    // environment, which outranks its files (docs/configuration.md). JSON is YAML flow syntax.
    this.#collectorEnv = { ...process.env, DAEMONEYE_ENTERPRISE__KERNEL_MONITORING: JSON.stringify(kernel) };
    // Likewise network_monitoring: with enable_packet_capture the collector also opens the capture
    // and serves packets on collector-net.sock (src/sources/pcap/collector-packet-source.ts reads it).
    if (network !== undefined) this.#collectorEnv['DAEMONEYE_ENTERPRISE__NETWORK_MONITORING'] = JSON.stringify(network);
    this.#dbPath = dbPath;
    this.#dataDir = dataDir;
    this.#log = log;
  }

  /** Which layer delivers process events now, and why not eBPF when it doesn't. */
  get status(): { layer: KernelLayer; reason: string } {
    return { layer: this.#layer, reason: this.#layer !== 'procfs' ? `collector pid ${this.#collectorPid}` : this.#reason };
  }

  /**
   * `processEvents` false: only the collector's packet capture is wanted (enable_packet_capture
   * without enable_ebpf), so the collector is started with `--sensor none` and no kernel events flow.
   */
  async start(processEvents = true): Promise<void> {
    const socket = collectorSocketPath(this.#dataDir);
    if (!processEvents) {
      if (process.getuid?.() !== 0) return;
      this.#sensorArgs.push('--sensor', 'none');
      await this.#startCollector(socket).catch((e: Error) => this.#log.warn('collector for packet capture did not start', { reason: e.message }));
      return;
    }
    try {
      this.#startWorker();
      if (process.getuid?.() === 0) await this.#startCollector(socket);
      const answer = new Promise<FromWorker>((resolve) => {
        const onMessage = (m: FromWorker) => {
          if (m.type !== 'connected' && m.type !== 'connect_failed') return;
          this.#worker?.off('message', onMessage);
          resolve(m);
        };
        this.#worker!.on('message', onMessage);
      });
      this.#post({ type: 'connect', socketPath: socket });
      const m = await answer;
      if (m.type === 'connect_failed') throw new Error(m.message);
      if (m.type !== 'connected') return;
      this.#collectorPid = m.collectorPid;
      this.#layer = m.sensor;
      if (this.#layer === 'ebpf') this.#log.info('kernel events active', { layer: 'ebpf', collector_pid: m.collectorPid });
      else this.#log.warn('kernel events active, degraded', { layer: this.#layer, collector_pid: m.collectorPid,
        reason: 'eBPF could not load in the collector (see its log); fork/exec/exit only, exec details read from /proc after the fact' });
    } catch (e) {
      this.#reason = (e as Error).message;
      this.#log.warn('kernel events unavailable; using procfs scans only', { reason: this.#reason });
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    this.#layer = 'procfs';
    this.#reason = 'stopped';
    const worker = this.#worker;
    this.#worker = null;
    if (worker !== null) {
      // Let the worker finish the batches it has, then close its connection.
      const closed = new Promise((r) => worker.on('message', (m: FromWorker) => m.type === 'closed' && r(undefined)));
      worker.postMessage({ type: 'close' } satisfies ToWorker);
      await Promise.race([closed, sleep(5000)]);
      await worker.terminate();
    }
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
    const child = fork(CLI, ['--data-dir', this.#dataDir, 'collector', '--socket', socket, ...this.#sensorArgs], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: this.#collectorEnv });
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

  /** A scan's view of the process table: the worker's process tree re-seeds from it. */
  seed(snapshots: readonly ProcessSnapshot[]): void {
    if (this.#worker === null) return;
    this.#post({ type: 'seed', processes: snapshots.map((p) => ({ pid: p.pid, ppid: p.ppid, name: p.name, executable_path: p.executable_path })) });
  }

  #startWorker(): void {
    const worker = new Worker(WORKER);
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'stored') {
        this.counters['kernel_batches']! += m.batches;
        this.counters['kernel_events']! += m.events;
        this.counters['kernel_decode_errors']! += m.decodeErrors;
        if (m.events > 0) this.#onStored();
      } else if (m.type === 'stats') {
        const st = m.stats;
        this.counters['kernel_drops'] = (st['kernel_drops'] ?? 0) + (st['user_drops'] ?? 0) + (st['batches_dropped'] ?? 0);
      } else if (m.type === 'disconnected') {
        if (this.#layer !== 'procfs') this.#log.warn('kernel events stopped; falling back to procfs scans', { reason: m.reason });
        this.#layer = 'procfs';
        this.#reason = m.reason;
      } else if (m.type === 'error') {
        this.counters['store_errors']!++;
        this.#log.error('storing kernel events failed', { reason: m.message });
      }
    });
    worker.on('error', (e) => this.#log.error('kernel store worker failed', { reason: e.message }));
    this.#worker = worker;
    this.#post({ type: 'open', dbPath: this.#dbPath });
  }

  #post(m: ToWorker): void {
    this.#worker?.postMessage(m);
  }
}
