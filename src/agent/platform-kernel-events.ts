// What Windows (ETW) and macOS (eslogger) kernel layers share in the agent: a store worker fed with
// decoded batches, counters, the status line, and which config flag turns the layer on. The layer
// itself (kernel-events.windows.ts / kernel-events.darwin.ts) only starts and stops its source.
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonEyeConfig } from '../config/schema.ts';
import type { KernelEvent, SecurityEvent } from '../normalize/kernel-event.ts';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import type { Logger } from './logger.ts';
import type { FromPlatformWorker, ToPlatformWorker } from './platform-events-worker.ts';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER = new URL(`./platform-events-worker${EXT}`, import.meta.url);

type KernelMonitoring = DaemonEyeConfig['enterprise']['kernel_monitoring'];

/** What the agent needs of any kernel layer (the Linux KernelEvents has the same shape). */
export interface KernelIntake {
  start(): Promise<void>;
  stop(): Promise<void>;
  seed(snapshots: readonly ProcessSnapshot[]): void;
  readonly counters: Readonly<Record<string, number>>;
}

/** Sum of a source's decode_errors.* counters: the run command shows it every cycle. */
export function decodeErrorTotal(counters: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(counters)) if (k.startsWith('decode_errors.')) n += v;
  return n;
}

/** The flag that turns the kernel layer on for this platform. */
export function kernelLayerWanted(k: KernelMonitoring, platform: NodeJS.Platform): boolean {
  if (platform === 'win32') return k.enable_etw;
  if (platform === 'darwin') return k.enable_endpoint_security;
  return k.enable_ebpf;
}

export class PlatformStore {
  readonly #dbPath: string;
  readonly #log: Logger;
  readonly #onStored: () => void;
  #worker: Worker | null = null;
  readonly counters: Record<string, number> = { kernel_events: 0, kernel_batches: 0, store_errors: 0 };

  constructor(dbPath: string, log: Logger, onStored: () => void) {
    this.#dbPath = dbPath;
    this.#log = log;
    this.#onStored = onStored;
  }

  open(): void {
    const worker = new Worker(WORKER);
    worker.unref();
    worker.on('message', (m: FromPlatformWorker) => {
      if (m.type === 'stored') {
        this.counters['kernel_batches']!++;
        this.counters['kernel_events']! += m.events;
        if (m.events > 0) this.#onStored();
      } else if (m.type === 'error') {
        this.counters['store_errors']!++;
        this.#log.error('storing kernel events failed', { reason: m.message });
      }
    });
    worker.on('error', (e) => this.#log.error('kernel store worker failed', { reason: e.message }));
    this.#worker = worker;
    this.#post({ type: 'open', dbPath: this.#dbPath });
  }

  write(events: readonly KernelEvent[], security: readonly SecurityEvent[]): void {
    if (events.length + security.length > 0) this.#post({ type: 'events', events, security });
  }

  seed(snapshots: readonly ProcessSnapshot[]): void {
    this.#post({ type: 'seed', processes: snapshots.map((p) => ({ pid: p.pid, ppid: p.ppid, name: p.name, executable_path: p.executable_path })) });
  }

  /** Lets the worker finish the batches it has, then closes its connection. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    if (worker === null) return;
    const closed = new Promise((r) => worker.on('message', (m: FromPlatformWorker) => m.type === 'closed' && r(undefined)));
    worker.postMessage({ type: 'close' } satisfies ToPlatformWorker);
    await Promise.race([closed, sleep(5000, undefined, { ref: false })]);
    await worker.terminate();
  }

  #post(m: ToPlatformWorker): void {
    this.#worker?.postMessage(m);
  }
}

/**
 * Restarts a kernel source that died (eslogger killed, an ETW session stopped under us) rather than
 * leaving the agent blind until it is restarted: after each death wait the next delay (the last one
 * repeats); a run that lasted `stableMs` resets the backoff.
 */
export class Restarter {
  readonly #delays: readonly number[];
  readonly #stableMs: number;
  #failures = 0;
  #startedAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = true;
  restarts = 0;

  constructor(delays: readonly number[] = [1_000, 5_000, 30_000, 60_000], stableMs = 60_000) {
    this.#delays = delays;
    this.#stableMs = stableMs;
  }

  begin(): void {
    this.#stopped = false;
  }

  /** The source is running (first start or a restart). */
  ran(): void {
    this.#startedAt = Date.now();
  }

  /** The source died: the wait before the next attempt. */
  died(): number {
    if (Date.now() - this.#startedAt >= this.#stableMs) this.#failures = 0;
    return this.#next();
  }

  schedule(delay: number, attempt: () => Promise<void>, onRestarted: () => void, onFailed: (e: unknown, retryMs: number) => void): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#stopped) return;
      attempt().then(() => {
        this.restarts++;
        onRestarted();
      }, (e: unknown) => {
        const again = this.#next();
        onFailed(e, again);
        this.schedule(again, attempt, onRestarted, onFailed);
      });
    }, delay);
    this.#timer.unref();
  }

  end(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #next(): number {
    return this.#delays[Math.min(this.#failures++, this.#delays.length - 1)]!;
  }
}
