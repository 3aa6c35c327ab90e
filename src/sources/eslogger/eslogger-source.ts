// The macOS kernel source: Apple's own EndpointSecurity client, eslogger (macOS 13+), run as a child
// process for exec, fork, exit and signal, its JSON lines decoded as they stream. A Node program
// cannot hold the com.apple.developer.endpoint-security.client entitlement; eslogger holds it.
// eslogger suppresses events of its own process group (eslogger(1)), so it is started in ours: the
// agent's own helpers never feed back into the store.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonEyeError } from '../../errors/catalogue.ts';
import type { KernelEvent, SecurityEvent } from '../../normalize/kernel-event.ts';
import type { Source, SourceHealth } from '../source.ts';
import { decodeEsloggerLine } from './eslogger-decode.ts';
import { classifyEsloggerFailure, classifySpawnError, ESLOGGER_PATH } from './eslogger-errors.ts';
import { readLines, type LineReaderCounters } from './line-reader.ts';

export const DEFAULT_ES_EVENTS = ['exec', 'fork', 'exit', 'signal'] as const;

export interface EsBatch {
  readonly events: KernelEvent[];
  readonly security: SecurityEvent[];
}

export interface EsloggerSourceOptions {
  /** enterprise.kernel_monitoring.es_client_name: names this client in logs and doctor. */
  readonly clientName: string;
  readonly esloggerPath?: string;
  readonly events?: readonly string[];
  readonly onBatch: (batch: EsBatch) => void;
  /** Called when eslogger ends after it had started (not on stop()). */
  readonly onExit?: (error: DaemonEyeError) => void;
  /** es_new_client() fails at once: eslogger alive this long (or printing) counts as started. */
  readonly startGraceMs?: number;
  readonly batchMax?: number;
}

export class EsloggerSource implements Source {
  readonly name = 'eslogger';
  readonly #opts: EsloggerSourceOptions;
  #child: ChildProcess | null = null;
  #health: SourceHealth = { state: 'unavailable', reason: 'not started' };
  #stopping = false;
  #lines: LineReaderCounters = { lines: 0, tooLong: 0 };
  #events = 0;
  readonly #errors: Record<string, number> = {};
  #pending: EsBatch = { events: [], security: [] };
  #flushQueued = false;

  constructor(opts: EsloggerSourceOptions) {
    this.#opts = opts;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Resolves once eslogger runs; rejects with DE_ES_* (not root, no Full Disk Access, too many clients, missing). */
  start(): Promise<void> {
    const path = this.#opts.esloggerPath ?? ESLOGGER_PATH;
    const name = this.#opts.clientName;
    this.#stopping = false;
    return new Promise((resolve, reject) => {
      const child = spawn(path, [...(this.#opts.events ?? DEFAULT_ES_EVENTS)], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.#child = child;
      let stderr = '';
      let started = false;
      const ready = () => {
        if (started) return;
        started = true;
        clearTimeout(timer);
        this.#health = { state: 'ok' };
        resolve();
      };
      const timer = setTimeout(ready, this.#opts.startGraceMs ?? 1500);
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
      child.stdout!.once('data', ready);
      this.#lines = readLines(child.stdout!, (line) => this.#onLine(line));
      child.once('error', (e) => {
        if (started) return;
        started = true;
        clearTimeout(timer);
        reject(classifySpawnError(e, path, name));
      });
      // 'close', not 'exit': every line eslogger wrote is read before we decide anything.
      child.once('close', (code, signal) => {
        this.#flush();
        this.#child = null;
        const error = classifyEsloggerFailure(stderr, code, signal, name);
        if (!started) {
          started = true;
          clearTimeout(timer);
          this.#health = { state: 'unavailable', reason: `${error.code}: ${error.message}` };
          reject(error);
        } else if (!this.#stopping) {
          this.#health = { state: 'unavailable', reason: `${error.code}: ${error.message}` };
          this.#opts.onExit?.(error);
        }
      });
    });
  }

  health(): SourceHealth {
    const schema = this.#errors['unsupported_schema'] ?? 0;
    if (this.#health.state === 'ok' && schema > 0) {
      return { state: 'degraded', reason: `DE_ES_SCHEMA: ${schema} eslogger lines had a schema_version other than 1 and were skipped` };
    }
    return this.#health;
  }

  counters(): Readonly<Record<string, number>> {
    const out: Record<string, number> = { es_lines: this.#lines.lines, es_events: this.#events, 'decode_errors.line_too_long': this.#lines.tooLong };
    for (const [reason, n] of Object.entries(this.#errors)) out[`decode_errors.${reason}`] = n;
    return out;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    await Promise.race([closed, sleep(5000, undefined, { ref: false })]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await closed;
    }
    this.#health = { state: 'unavailable', reason: 'stopped' };
  }

  #onLine(line: string): void {
    if (line.trim() === '') return;
    const d = decodeEsloggerLine(line);
    if (!d.ok) {
      this.#errors[d.reason] = (this.#errors[d.reason] ?? 0) + 1;
      return;
    }
    this.#events++;
    if (d.event.kind === 'security') this.#pending.security.push(d.event);
    else this.#pending.events.push(d.event);
    if (this.#pending.events.length + this.#pending.security.length >= (this.#opts.batchMax ?? 256)) this.#flush();
    else if (!this.#flushQueued) {
      // Lines of one read arrive together: hand them on as one batch once the read is done.
      this.#flushQueued = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const batch = this.#pending;
    if (batch.events.length + batch.security.length === 0) return;
    this.#pending = { events: [], security: [] };
    this.#opts.onBatch(batch);
  }
}
