// Polls /proc: one scan reads every process and returns one ProcessSnapshot per process. This is the
// fallback collector when eBPF is not available, and the source of the periodic full inventory.
//
// Reading is synchronous on purpose (see proc-reader.ts); the scan yields to the event loop every
// `yieldEvery` processes so a scan of thousands of processes does not stall the rest of the agent.
// A process is read file by file, so it can exit half-way: files every live process has (stat,
// status, cmdline) failing with ENOENT/ESRCH mean it is gone; the others (exe, cwd, ns, cgroup,
// environ) are missing for zombies or on some kernels too, so their absence is confirmed by checking
// the pid directory still exists before the row is kept.
import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { ProcessSnapshot } from '../../normalize/process-snapshot.ts';
import { parseCgroup } from '../../normalize/procfs/parse-cgroup.ts';
import { parseDecimal } from '../../normalize/procfs/parse-decimal.ts';
import { parseNsLink } from '../../normalize/procfs/parse-ns-link.ts';
import { parseCmdline, pickEnvironment } from '../../normalize/procfs/parse-nul-list.ts';
import { parseBootTime, parseUptime } from '../../normalize/procfs/parse-proc-stat.ts';
import { parseStat, type ProcStat } from '../../normalize/procfs/parse-stat.ts';
import { parseStatus } from '../../normalize/procfs/parse-status.ts';
import { processStateName } from '../../normalize/procfs/process-state.ts';
import { ttyName } from '../../normalize/procfs/tty-name.ts';
import type { ProcessScan, SnapshotSource, SourceHealth } from '../source.ts';
import { CpuTracker } from './cpu-tracker.ts';
import { resolveDeletedExe } from './exe-link.ts';
import { ImageMemo } from './image-memo.ts';
import { ExecutableHasher, HASH_NONE, type ExecutableHasherOptions, type HashOutcome } from './executable-hasher.ts';
import { clockTicksPerSecond, pageSizeBytes } from './host-constants.linux.ts';
import { errnoCode, isDenied, isGone, ProcReader } from './proc-reader.ts';
import { UserNames } from './user-names.ts';
import { DEFAULT_ENVIRONMENT_ALLOW_LIST } from './environment-allow-list.ts';


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

interface HostClock {
  readonly bootSec: number;
  readonly ticks: number;
  readonly pageSize: number;
  readonly cpu: CpuTracker;
}

const PF_KTHREAD = 0x00200000;
const UNREADABLE: HashOutcome = Object.freeze({ status: 'unreadable', hash: null });
// What #readProcess returns when there is no row.
const VANISHED = 1, NO_ACCESS = 2, MALFORMED = 3;
type NoRow = typeof VANISHED | typeof NO_ACCESS | typeof MALFORMED;

export class ProcfsScanner implements SnapshotSource {
  readonly name = 'procfs';
  readonly #root: string;
  readonly #options: ProcfsScannerOptions;
  readonly #allow: ReadonlySet<string>;
  readonly #reader: ProcReader;
  readonly #hasher: ExecutableHasher;
  readonly #users: UserNames;
  readonly #memo = new ImageMemo();
  readonly #yieldEvery: number;
  readonly #counts = new Map<string, number>();
  #clock: HostClock | null = null;
  #uptimeAt: { sec: number; mono: number } = { sec: 0, mono: 0 };
  #unavailable: string | null = null;
  #last: { rows: number; inaccessible: number; decodeErrors: number } | null = null;
  #stopped = false;
  // Per-process state of the row being read (reset by #readProcess).
  #accessible: 0 | 1 = 1;
  #maybeGone = false;

  constructor(options: ProcfsScannerOptions = {}) {
    this.#options = options;
    this.#root = options.root ?? '/proc';
    this.#allow = new Set(options.environmentAllowList ?? DEFAULT_ENVIRONMENT_ALLOW_LIST);
    this.#reader = new ProcReader(options.maxFileBytes);
    this.#hasher = new ExecutableHasher(options.hashing);
    this.#users = new UserNames(options.passwdPath);
    this.#yieldEvery = Math.max(1, options.yieldEvery ?? 500);
  }

  async scan(): Promise<ProcessScan> {
    if (this.#stopped) throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', 'the procfs scanner was stopped');
    const clock = this.#init();
    const startedAt = Date.now();
    let entries: string[];
    try {
      entries = readdirSync(this.#root);
    } catch (e) {
      throw this.#unavailableError(`cannot list ${this.#root}`, e);
    }
    this.#uptimeAt = { sec: this.#readUptime(startedAt, clock.bootSec), mono: performance.now() };
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
      const row = this.#readProcess(entry, pid);
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
    await this.#hasher.stop();
  }

  #readProcess(entry: string, pid: number): ProcessSnapshot | NoRow {
    const r = this.#reader;
    const dir = `${this.#root}/${entry}/`;
    const statText = r.readText(dir + 'stat');
    if (statText === null) {
      if (isGone(r.error)) return VANISHED;
      this.#readError(r.error);
      return NO_ACCESS;
    }
    const st = parseStat(statText);
    if (st === null || st.pid !== pid) return this.#decodeError('stat_malformed');
    const collectionTime = Date.now();
    const atMs = performance.now();
    this.#accessible = 1;
    this.#maybeGone = false;
    // Zombies have released their memory, files and namespaces: only stat, status and cmdline remain.
    const zombie = st.state === 'Z' || st.state === 'X' || st.state === 'x';
    let kernel = (st.flags & PF_KTHREAD) !== 0;

    const statusText = r.readText(dir + 'status');
    if (statusText === null && isGone(r.error)) return VANISHED;
    if (statusText === null) this.#readError(r.error);
    const status = statusText === null ? null : parseStatus(statusText);
    if (statusText !== null && status === null) this.#decodeError('status_malformed');
    if (status?.kthread === true) kernel = true;

    let argv: string[] = [];
    if (!kernel) {
      const text = r.readText(dir + 'cmdline');
      if (text === null && isGone(r.error)) return VANISHED;
      if (text === null) this.#readError(r.error);
      else argv = parseCmdline(text);
      if (r.truncated) this.#bump('truncated.cmdline');
      // kthreadd's children are kernel threads; the empty argv guard keeps a container's own pid 2
      // (a user process in its pid namespace) from being taken for one.
      if ((pid === 2 || st.ppid === 2) && argv.length === 0) kernel = true;
    }

    let environment: string | null = null;
    let exePath: string | null = null;
    let fileExists: 0 | 1 | null = null;
    let hash = HASH_NONE;
    let cwd: string | null = null;
    let containerId: string | null = null;
    if (!kernel && !zombie) {
      environment = this.#environment(dir, pid, st);
      const exeStat = this.#statExe(dir + 'exe');
      if (exeStat === undefined) {
        // Denied: there is an executable we may not see. Gone: a process mid-exit, confirmed below.
        if (!isGone(r.error)) hash = UNREADABLE;
      } else {
        [exePath, fileExists] = this.#exePath(dir, pid, st.startTicks, exeStat) ?? [null, null];
        hash = this.#hasher.hash(dir + 'exe', exeStat);
      }
      cwd = this.#optionalLink(dir + 'cwd');
      const cgroupText = this.#optionalText(dir + 'cgroup');
      const cgroup = cgroupText === null ? null : parseCgroup(cgroupText);
      if (cgroupText !== null && cgroup === null) this.#decodeError('cgroup_malformed');
      containerId = cgroup?.containerId ?? null;
    }
    const pidNs = zombie ? null : this.#ns(dir + 'ns/pid');
    const mntNs = zombie ? null : this.#ns(dir + 'ns/mnt');
    const netNs = zombie ? null : this.#ns(dir + 'ns/net');
    if (this.#maybeGone && !existsSync(dir + 'stat')) return VANISHED;

    const clock = this.#clock!;
    const uptimeSec = this.#uptimeAt.sec + (atMs - this.#uptimeAt.mono) / 1000;
    let stateWord = processStateName(st.state);
    if (stateWord === null) {
      this.#decodeError('state_unknown');
      stateWord = 'unknown';
    }
    const uid = status?.uid ?? null;
    return {
      pid,
      ppid: st.ppid,
      name: st.comm,
      executable_path: exePath,
      command_line: argv.join(' '),
      argv: JSON.stringify(argv),
      start_time: Math.round(clock.bootSec * 1000 + (st.startTicks * 1000) / clock.ticks),
      start_ticks: st.startTicks,
      cpu_usage: clock.cpu.usage(pid, st.startTicks, st.utime + st.stime, atMs, uptimeSec),
      memory_usage: st.rssPages * clock.pageSize,
      status: stateWord,
      executable_hash: hash.hash,
      hash_algorithm: hash.hash === null ? null : 'sha256',
      hash_status: hash.status,
      user_id: uid,
      group_id: status?.gid ?? null,
      effective_user_id: status?.euid ?? null,
      effective_group_id: status?.egid ?? null,
      user_name: this.#users.nameOf(uid),
      accessible: this.#accessible,
      file_exists: fileExists,
      cwd,
      tty: ttyName(st.ttyNr),
      session_id: st.session,
      pgid: st.pgrp,
      threads: status?.threads ?? st.numThreads,
      pid_ns: pidNs,
      mnt_ns: mntNs,
      net_ns: netNs,
      container_id: containerId,
      environment,
      is_kernel_thread: kernel ? 1 : 0,
      collection_time: collectionTime,
    };
  }

  /** A file not every live process has: ENOENT may mean "exited" or just "none here". */
  #optionalText(path: string): string | null {
    const text = this.#reader.readText(path);
    if (text === null) this.#optionalFailed(this.#reader.error);
    return text;
  }

  #optionalLink(path: string): string | null {
    const target = this.#reader.readLink(path);
    if (target === null) this.#optionalFailed(this.#reader.error);
    return target;
  }

  #environment(dir: string, pid: number, st: ProcStat): string | null {
    const known = this.#memo.environment(pid, st.startTicks, st.imageMarker);
    if (known !== undefined) return known;
    const text = this.#optionalText(dir + 'environ');
    if (text === null) return null;
    if (this.#reader.truncated) this.#bump('truncated.environ');
    const environment = JSON.stringify(pickEnvironment(text, this.#allow));
    this.#memo.rememberEnvironment(pid, st.startTicks, st.imageMarker, environment);
    return environment;
  }

  #exePath(dir: string, pid: number, startTicks: number, exeStat: Stats): readonly [string, 0 | 1] | null {
    const exeKey = `${exeStat.dev}:${exeStat.ino}:${exeStat.ctimeMs}:${exeStat.nlink}`;
    const known = this.#memo.exe(pid, startTicks, exeKey);
    if (known !== undefined) return known;
    const target = this.#optionalLink(dir + 'exe');
    if (target === null) return null;
    const [path, exists] = resolveDeletedExe(target, exeStat);
    this.#memo.rememberExe(pid, startTicks, exeKey, path, exists);
    return [path, exists];
  }

  #statExe(path: string): Stats | undefined {
    try {
      return statSync(path);
    } catch (e) {
      this.#reader.error = errnoCode(e);
      this.#optionalFailed(this.#reader.error);
      return undefined;
    }
  }

  #ns(path: string): number | null {
    const target = this.#optionalLink(path);
    if (target === null) return null;
    const inode = parseNsLink(target);
    if (inode === null) this.#decodeError('ns_malformed');
    return inode;
  }

  #optionalFailed(code: string): void {
    if (isGone(code)) this.#maybeGone = true;
    else this.#readError(code);
  }

  /** Anything but "gone" leaves the row incomplete: accessible = 0, and counted by errno. */
  #readError(code: string): void {
    this.#accessible = 0;
    this.#bump(isDenied(code) ? 'read_errors.permission_denied' : `read_errors.${code}`);
  }

  #decodeError(reason: string): typeof MALFORMED {
    this.#bump(`decode_errors.${reason}`);
    return MALFORMED;
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
    let bootSec: number | null;
    const reader = new ProcReader(1024 * 1024);
    const text = reader.readText(`${this.#root}/stat`);
    if (text === null) throw this.#unavailableError(`no procfs at ${this.#root} (${reader.error} reading ${this.#root}/stat)`);
    bootSec = parseBootTime(text);
    if (bootSec === null) throw this.#unavailableError(`${this.#root}/stat has no btime line: not a Linux procfs`);
    const ticks = this.#options.clockTicks ?? clockTicksPerSecond();
    this.#clock = { bootSec, ticks, pageSize: this.#options.pageSize ?? pageSizeBytes(), cpu: new CpuTracker(ticks) };
    return this.#clock;
  }

  /** Seconds since boot; btime is rounded to the second, so /proc/uptime is preferred when present. */
  #readUptime(nowMs: number, bootSec: number): number {
    const text = this.#reader.readText(`${this.#root}/uptime`);
    return (text === null ? null : parseUptime(text)) ?? nowMs / 1000 - bootSec;
  }

  #unavailableError(reason: string, cause?: unknown): DaemonEyeError {
    this.#unavailable = reason;
    return new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `procfs source unavailable: ${reason}`, { cause });
  }
}
