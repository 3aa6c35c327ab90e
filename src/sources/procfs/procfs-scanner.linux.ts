// Polls /proc: one scan reads every process and returns one ProcessSnapshot per process. This is the
// fallback collector when eBPF is not available, and the source of the periodic full inventory.
//
// Reading is synchronous on purpose (see proc-reader.ts); the scan yields to the event loop every
// `yieldEvery` processes so a scan of thousands of processes does not stall the rest of the agent.
// One process is read by ProcessDirReader; this class lists them, keeps the per-scan state (CPU
// readings, the image memo, /etc/passwd) and reports health and counters.
import { readdirSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { ProcessSnapshot } from '../../normalize/process-snapshot.ts';
import { parseDecimal } from '../../normalize/procfs/parse-decimal.ts';
import type { ProcessScan, SnapshotSource, SourceHealth } from '../source.ts';
import { CpuTracker } from './cpu-tracker.ts';
import { DEFAULT_ENVIRONMENT_ALLOW_LIST } from './environment-allow-list.ts';
import { ExecutableHasher, type ExecutableHasherOptions } from './executable-hasher.ts';
import { clockTicksPerSecond, pageSizeBytes, readBootTime, readUptime } from './host-constants.linux.ts';
import { ImageMemo } from './image-memo.ts';
import { MALFORMED, NO_ACCESS, ProcessDirReader, VANISHED, type HostClock } from './process-dir-reader.linux.ts';
import { ProcReader } from './proc-reader.ts';
import { UserNames } from './user-names.ts';

export interface ProcfsScannerOptions {
  /** Where procfs is mounted (default '/proc'); tests point it at a directory they build. */
  readonly root?: string;
  readonly passwdPath?: string;
  /** Environment variable names copied into `environment`; nothing else is ever stored. */
  readonly environmentAllowList?: readonly string[];
  /** USER_HZ and page size; read with getconf on first scan when not given. */
  readonly clockTicks?: number;
  readonly pageSize?: number;
  /** Bytes read at most from one cmdline or environ (default 4 MiB). */
  readonly maxFileBytes?: number;
  readonly hashing?: ExecutableHasherOptions;
  /** Processes read between two yields to the event loop (default 500). */
  readonly yieldEvery?: number;
}

export class ProcfsScanner implements SnapshotSource {
  readonly name = 'procfs';
  readonly #root: string;
  readonly #options: ProcfsScannerOptions;
  readonly #hasher: ExecutableHasher;
  readonly #users: UserNames;
  readonly #memo = new ImageMemo();
  readonly #processes: ProcessDirReader;
  readonly #reader = new ProcReader(64 * 1024);
  readonly #yieldEvery: number;
  readonly #counts = new Map<string, number>();
  #clock: HostClock | null = null;
  #unavailable: string | null = null;
  #last: { rows: number; inaccessible: number; decodeErrors: number } | null = null;
  #stopped = false;
  #inProgress: Promise<ProcessScan> | null = null;

  constructor(options: ProcfsScannerOptions = {}) {
    this.#options = options;
    this.#root = options.root ?? '/proc';
    this.#hasher = new ExecutableHasher(options.hashing);
    this.#users = new UserNames(options.passwdPath);
    this.#processes = new ProcessDirReader({
      hasher: this.#hasher,
      users: this.#users,
      memo: this.#memo,
      allow: new Set(options.environmentAllowList ?? DEFAULT_ENVIRONMENT_ALLOW_LIST),
      maxFileBytes: options.maxFileBytes,
      bump: (counter) => this.#bump(counter),
    });
    this.#yieldEvery = Math.max(1, options.yieldEvery ?? 500);
  }

  /** One pass over /proc. A call while a scan runs gets that scan's result (they share CPU readings). */
  scan(): Promise<ProcessScan> {
    this.#inProgress ??= this.#scanOnce().finally(() => {
      this.#inProgress = null;
    });
    return this.#inProgress;
  }

  async #scanOnce(): Promise<ProcessScan> {
    if (this.#stopped) throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', 'the procfs scanner was stopped');
    const clock = this.#init();
    const startedAt = Date.now();
    let entries: string[];
    try {
      entries = readdirSync(this.#root);
    } catch (e) {
      throw this.#unavailableError(`cannot list ${this.#root}`, e);
    }
    const uptime = { sec: readUptime(this.#root, this.#reader) ?? startedAt / 1000 - clock.bootSec, mono: performance.now() };
    this.#users.refresh();
    clock.cpu.beginScan();
    this.#memo.beginScan();
    const decodeErrorsBefore = this.#decodeErrors();
    const snapshots: ProcessSnapshot[] = [];
    let vanished = 0;
    let inaccessible = 0;
    let sinceYield = 0;
    for (const entry of entries) {
      const c = entry.charCodeAt(0);
      if (c < 48 || c > 57) continue; // not a pid directory (self, sys, meminfo, ...)
      const pid = parseDecimal(entry);
      if (pid === null || pid <= 0) continue;
      const row = this.#processes.read(`${this.#root}/${entry}/`, pid, clock, uptime);
      if (row === VANISHED) vanished++;
      else if (row === NO_ACCESS) inaccessible++;
      else if (row !== MALFORMED) {
        snapshots.push(row);
        if (row.accessible === 0) inaccessible++;
      }
      if (++sinceYield === this.#yieldEvery) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    clock.cpu.endScan();
    this.#memo.endScan();
    const finishedAt = Date.now();
    this.#bump('scans');
    this.#bump('processes_read', snapshots.length);
    this.#bump('vanished', vanished);
    this.#bump('inaccessible', inaccessible);
    this.#bump('scan_ms_total', finishedAt - startedAt);
    this.#last = { rows: snapshots.length, inaccessible, decodeErrors: this.#decodeErrors() - decodeErrorsBefore };
    return { startedAt, finishedAt, snapshots, inaccessible, vanished };
  }

  health(): SourceHealth {
    if (this.#unavailable !== null) return { state: 'unavailable', reason: this.#unavailable };
    const last = this.#last;
    if (last === null) return { state: 'ok' };
    if (last.inaccessible > 0) {
      return {
        state: 'degraded',
        reason: `${last.inaccessible} processes could only be partly read (permission denied) in the last scan: ` +
          'run the agent as root, or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH',
      };
    }
    if (last.decodeErrors > 0) {
      return { state: 'degraded', reason: `${last.decodeErrors} procfs records could not be decoded in the last scan (counters decode_errors.*)` };
    }
    return { state: 'ok' };
  }

  counters(): Readonly<Record<string, number>> {
    return { ...Object.fromEntries(this.#counts), ...this.#hasher.counters() };
  }

  /** Resolves when background hashing has caught up (tests, benchmarks). */
  hashingIdle(): Promise<void> {
    return this.#hasher.idle();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#inProgress?.catch(() => undefined);
    await this.#hasher.stop();
  }

  #decodeErrors(): number {
    let n = 0;
    for (const [name, value] of this.#counts) if (name.startsWith('decode_errors.')) n += value;
    return n;
  }

  #bump(name: string, by = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + by);
  }

  #init(): HostClock {
    if (this.#clock !== null) return this.#clock;
    const boot = readBootTime(this.#root);
    if (typeof boot === 'string') throw this.#unavailableError(boot);
    const ticks = this.#options.clockTicks ?? clockTicksPerSecond();
    this.#clock = { bootSec: boot, ticks, pageSize: this.#options.pageSize ?? pageSizeBytes(), cpu: new CpuTracker(ticks) };
    return this.#clock;
  }

  #unavailableError(reason: string, cause?: unknown): DaemonEyeError {
    this.#unavailable = reason;
    return new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `procfs source unavailable: ${reason}`, { cause });
  }
}
