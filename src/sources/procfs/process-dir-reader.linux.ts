// Reads one /proc/PID directory into a ProcessSnapshot, file by file. The process can exit half-way:
// files every live process has (stat, status, cmdline) failing with ENOENT/ESRCH mean it is gone;
// the others (environ, exe, cwd, cgroup, ns/*) are also missing for zombies or on some kernels, so
// their absence is confirmed by checking the pid directory still exists before the row is kept.
// Any other failure (EACCES) keeps the row with what could be read and accessible = 0.
import { existsSync, statSync, type Stats } from 'node:fs';
import type { ProcessSnapshot } from '../../normalize/process-snapshot.ts';
import { parseCgroup } from '../../normalize/procfs/parse-cgroup.ts';
import { parseNsLink } from '../../normalize/procfs/parse-ns-link.ts';
import { parseCmdline, pickEnvironment } from '../../normalize/procfs/parse-nul-list.ts';
import { parseStat, type ProcStat } from '../../normalize/procfs/parse-stat.ts';
import { parseStatus } from '../../normalize/procfs/parse-status.ts';
import { processStateName } from '../../normalize/procfs/process-state.ts';
import { ttyName } from '../../normalize/procfs/tty-name.ts';
import type { CpuTracker } from './cpu-tracker.ts';
import { resolveDeletedExe } from './exe-link.ts';
import { HASH_NONE, type ExecutableHasher, type HashOutcome } from './executable-hasher.ts';
import type { ImageMemo } from './image-memo.ts';
import { errnoCode, isDenied, isGone, ProcReader } from './proc-reader.ts';
import type { UserNames } from './user-names.ts';

/** What turns ticks and pages into wall time, CPU share and bytes; fixed once per scanner. */
export interface HostClock {
  readonly bootSec: number;
  readonly ticks: number;
  readonly pageSize: number;
  readonly cpu: CpuTracker;
}

export interface ProcessDirReaderDeps {
  readonly hasher: ExecutableHasher;
  readonly users: UserNames;
  readonly memo: ImageMemo;
  /** Environment variable names kept in `environment`. */
  readonly allow: ReadonlySet<string>;
  /** Bytes read at most from one file (cmdline, environ). */
  readonly maxFileBytes?: number;
  /** Increments a counter of the owning source (decode_errors.*, read_errors.*, truncated.*). */
  readonly bump: (counter: string) => void;
}

// What read() returns when there is no row.
export const VANISHED = 1, NO_ACCESS = 2, MALFORMED = 3;
export type NoRow = typeof VANISHED | typeof NO_ACCESS | typeof MALFORMED;

const PF_KTHREAD = 0x00200000;
const UNREADABLE: HashOutcome = Object.freeze({ status: 'unreadable', hash: null });

export class ProcessDirReader {
  readonly #deps: ProcessDirReaderDeps;
  readonly #reader: ProcReader;
  // State of the row being read, reset by read().
  #accessible: 0 | 1 = 1;
  #maybeGone = false;

  constructor(deps: ProcessDirReaderDeps) {
    this.#deps = deps;
    this.#reader = new ProcReader(deps.maxFileBytes);
  }

  /**
   * Reads `dir` (a /proc/PID/ path with the trailing slash).
   * @param uptime seconds since boot (`sec`) at the monotonic time `mono` (performance.now()).
   */
  read(dir: string, pid: number, clock: HostClock, uptime: { sec: number; mono: number }): ProcessSnapshot | NoRow {
    const r = this.#reader;
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
      if (r.truncated) this.#deps.bump('truncated.cmdline');
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
        hash = this.#deps.hasher.hash(dir + 'exe', exeStat);
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

    const uptimeSec = uptime.sec + (atMs - uptime.mono) / 1000;
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
      user_name: this.#deps.users.nameOf(uid),
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
    const known = this.#deps.memo.environment(pid, st.startTicks, st.imageMarker);
    if (known !== undefined) return known;
    const text = this.#optionalText(dir + 'environ');
    if (text === null) return null;
    if (this.#reader.truncated) this.#deps.bump('truncated.environ');
    const environment = JSON.stringify(pickEnvironment(text, this.#deps.allow));
    this.#deps.memo.rememberEnvironment(pid, st.startTicks, st.imageMarker, environment);
    return environment;
  }

  #exePath(dir: string, pid: number, startTicks: number, exeStat: Stats): readonly [string, 0 | 1] | null {
    const exeKey = `${exeStat.dev}:${exeStat.ino}:${exeStat.ctimeMs}:${exeStat.nlink}`;
    const known = this.#deps.memo.exe(pid, startTicks, exeKey);
    if (known !== undefined) return known;
    const target = this.#optionalLink(dir + 'exe');
    if (target === null) return null;
    const [path, exists] = resolveDeletedExe(target, exeStat);
    this.#deps.memo.rememberExe(pid, startTicks, exeKey, path, exists);
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
    this.#deps.bump(isDenied(code) ? 'read_errors.permission_denied' : `read_errors.${code}`);
  }

  #decodeError(reason: string): typeof MALFORMED {
    this.#deps.bump(`decode_errors.${reason}`);
    return MALFORMED;
  }
}
