// The agent's kernel layer on macOS: Apple's eslogger as the EndpointSecurity client
// (enterprise.kernel_monitoring.enable_endpoint_security; es_client_name names it in logs and doctor),
// delivering exec, fork, exit and signal into the same tables as eBPF on Linux. When it cannot run
// (not root, no Full Disk Access, macOS < 13, too many clients) the agent says why and keeps to scans;
// when eslogger dies after it ran, it is restarted with backoff.
import type { DaemonEyeConfig } from '../config/schema.ts';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import { esPreflight, thisHost, type EsHost } from '../sources/eslogger/eslogger-errors.ts';
import { EsloggerSource } from '../sources/eslogger/eslogger-source.ts';
import type { Logger } from './logger.ts';
import { decodeErrorTotal, PlatformStore, Restarter, type KernelIntake } from './platform-kernel-events.ts';

type KernelMonitoring = DaemonEyeConfig['enterprise']['kernel_monitoring'];

export interface EsKernelEventsOptions {
  /** The host facts preflight checks; tests running on other systems pass their own. */
  readonly host?: EsHost;
  readonly esloggerPath?: string;
  /** Waits before each restart of an eslogger that died; the last one repeats. */
  readonly restartDelaysMs?: readonly number[];
}

export class EsKernelEvents implements KernelIntake {
  readonly #store: PlatformStore;
  readonly #log: Logger;
  readonly #client: string;
  readonly #opts: EsKernelEventsOptions;
  #source: EsloggerSource | null = null;
  #reason = 'enterprise.kernel_monitoring.enable_endpoint_security is off';
  /** eslogger can die (killed, the ES subsystem restarted): it is restarted with backoff. */
  readonly #restarter: Restarter;

  constructor(dbPath: string, log: Logger, kernel: KernelMonitoring, onStored: () => void = () => {}, opts: EsKernelEventsOptions = {}) {
    this.#store = new PlatformStore(dbPath, log, onStored);
    this.#log = log;
    this.#client = kernel.es_client_name;
    this.#opts = opts;
    this.#restarter = new Restarter(opts.restartDelaysMs);
  }

  get status(): { layer: 'endpoint_security' | 'scans'; reason: string } {
    return this.#source !== null ? { layer: 'endpoint_security', reason: `client ${this.#client}, eslogger pid ${this.#source.pid}` } : { layer: 'scans', reason: this.#reason };
  }

  get counters(): Readonly<Record<string, number>> {
    const source = this.#source?.counters() ?? {};
    return { ...this.#store.counters, ...source, es_restarts: this.#restarter.restarts, kernel_decode_errors: decodeErrorTotal(source) };
  }

  async start(): Promise<void> {
    try {
      const refused = esPreflight(this.#opts.host ?? thisHost(), this.#client);
      if (refused !== null) throw refused;
      this.#store.open();
      this.#restarter.begin();
      await this.#startSource();
      this.#log.info('kernel events active', { layer: 'endpoint_security', client: this.#client, eslogger_pid: this.#source?.pid ?? 0 });
    } catch (e) {
      const reason = isDaemonEyeError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
      this.#log.warn('kernel events unavailable; using scans only', { client: this.#client, reason, hint: isDaemonEyeError(e) ? e.hint : '' });
      await this.stop();
      this.#reason = reason;
    }
  }

  async #startSource(): Promise<void> {
    const source = new EsloggerSource({
      clientName: this.#client,
      ...(this.#opts.esloggerPath !== undefined ? { esloggerPath: this.#opts.esloggerPath } : {}),
      onBatch: (b) => this.#store.write(b.events, b.security),
      onExit: (e) => {
        this.#reason = `${e.code}: ${e.message}`;
        this.#source = null;
        const delay = this.#restarter.died();
        this.#log.error('EndpointSecurity client stopped; restarting it', { client: this.#client, code: e.code, reason: e.message, hint: e.hint, retry_in_ms: delay });
        this.#restarter.schedule(delay, () => this.#startSource(),
          () => this.#log.warn('EndpointSecurity client restarted', { client: this.#client, eslogger_pid: this.#source?.pid ?? 0, restarts: this.#restarter.restarts }),
          (err, again) => {
            this.#reason = isDaemonEyeError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
            this.#log.error('EndpointSecurity client did not restart', { client: this.#client, reason: this.#reason, retry_in_ms: again });
          });
      },
    });
    await source.start();
    this.#source = source;
    this.#restarter.ran();
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
