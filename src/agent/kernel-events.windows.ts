// The agent's kernel layer on Windows: a real-time ETW session (enterprise.kernel_monitoring.enable_etw,
// named by etw_session_name) delivering process start/stop, image loads and TCP connect/accept into
// the same tables as eBPF on Linux. When ETW cannot run the agent says why and keeps to scans; a
// session stopped from outside is reopened with backoff.
import type { DaemonEyeConfig } from '../config/schema.ts';
import { isDaemonEyeError, type DaemonEyeError } from '../errors/catalogue.ts';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import { EtwKernelSource } from '../sources/etw/etw-source.ts';
import type { Logger } from './logger.ts';
import { decodeErrorTotal, PlatformStore, Restarter, type KernelIntake } from './platform-kernel-events.ts';

type KernelMonitoring = DaemonEyeConfig['enterprise']['kernel_monitoring'];

export class EtwKernelEvents implements KernelIntake {
  readonly #store: PlatformStore;
  readonly #log: Logger;
  readonly #session: string;
  #source: EtwKernelSource | null = null;
  #reason = 'enterprise.kernel_monitoring.enable_etw is off';
  #lostSeen = 0;
  /** A session stopped from outside is reopened with backoff (reopening replaces a same-name one). */
  readonly #restarter = new Restarter();

  constructor(dbPath: string, log: Logger, kernel: KernelMonitoring, onStored: () => void = () => {}) {
    this.#store = new PlatformStore(dbPath, log, onStored);
    this.#log = log;
    this.#session = kernel.etw_session_name;
  }

  get status(): { layer: 'etw' | 'scans'; reason: string } {
    return this.#source !== null ? { layer: 'etw', reason: `session ${this.#session}` } : { layer: 'scans', reason: this.#reason };
  }

  get counters(): Readonly<Record<string, number>> {
    const source = this.#source?.counters() ?? {};
    const lost = (source['etw_events_lost'] ?? 0) + (source['etw_buffers_lost'] ?? 0) + (source['etw_batches_dropped'] ?? 0);
    if (lost > this.#lostSeen) {
      // Losing events is reported, never silent: the health reason says where they were lost.
      this.#lostSeen = lost;
      this.#log.warn('ETW lost events', { session: this.#session, reason: this.#source?.health().reason ?? '' });
    }
    return { ...this.#store.counters, ...source, kernel_drops: lost, kernel_decode_errors: decodeErrorTotal(source), etw_restarts: this.#restarter.restarts };
  }

  async start(): Promise<void> {
    try {
      this.#store.open();
      this.#restarter.begin();
      await this.#open();
      this.#log.info('kernel events active', { layer: 'etw', session: this.#session });
    } catch (e) {
      this.#reason = isDaemonEyeError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
      this.#log.warn('kernel events unavailable; using scans only', { reason: this.#reason, hint: isDaemonEyeError(e) ? e.hint : '' });
      await this.stop();
      this.#reason = isDaemonEyeError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
    }
  }

  async #open(): Promise<void> {
    const source = new EtwKernelSource({
      sessionName: this.#session,
      onDecoded: (d) => this.#store.write(d.events, d.security),
      onEnded: (e) => void this.#ended(source, e),
    });
    source.start();
    this.#source = source;
    this.#restarter.ran();
    if (source.staleSessionReplaced) this.#log.warn('stopped a stale ETW session of the same name (left by a crash) and started afresh', { session: this.#session });
  }

  async #ended(source: EtwKernelSource, e: DaemonEyeError): Promise<void> {
    if (this.#source !== source) return;
    this.#source = null;
    this.#reason = `${e.code}: ${e.message}`;
    // Keep what it counted before the addon's state is reset by the next open.
    await source.stop();
    const delay = this.#restarter.died();
    this.#log.error('ETW session ended; reopening it', { session: this.#session, reason: e.message, retry_in_ms: delay });
    this.#restarter.schedule(delay, () => this.#open(),
      () => this.#log.warn('ETW session reopened', { session: this.#session, restarts: this.#restarter.restarts }),
      (err, again) => {
        this.#reason = isDaemonEyeError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
        this.#log.error('ETW session did not reopen', { session: this.#session, reason: this.#reason, retry_in_ms: again });
      });
  }

  seed(snapshots: readonly ProcessSnapshot[]): void {
    this.#store.seed(snapshots);
  }

  async stop(): Promise<void> {
    this.#restarter.end();
    const source = this.#source;
    this.#source = null;
    this.#reason = 'stopped';
    await source?.stop();
    await this.#store.close();
  }
}
