// /proc/PID/stat: "pid (comm) state ppid ...". comm is chosen by the process (prctl PR_SET_NAME, or the
// executable's file name) and may hold spaces, parentheses and newlines, so fields are counted from
// the LAST ')' — the kernel writes nothing after comm that could contain one. See proc_pid_stat(5).
import { parseDecimal } from './parse-decimal.ts';

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  /** The single state letter (see processStateName). */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  /** Encoded controlling terminal device (see ttyName). */
  readonly ttyNr: number;
  /** PF_* flags (unsigned 32-bit). */
  readonly flags: number;
  /** User and system CPU time, in clock ticks. */
  readonly utime: number;
  readonly stime: number;
  readonly numThreads: number;
  /** Start time after boot, in clock ticks. */
  readonly startTicks: number;
  /** Resident set size, in pages. */
  readonly rssPages: number;
  /**
   * Where the stack and the argument and environment blocks of the current program image start.
   * execve maps a new image at new (randomised) addresses, so a change means the process exec'ed.
   * Empty when the kernel hides them (no ptrace access) or is older than 3.5: treat as unknown.
   */
  readonly imageMarker: string;
}

// Indices into the fields that follow ") " (field 3, state, is index 0); see proc_pid_stat(5).
const STATE = 0, PPID = 1, PGRP = 2, SESSION = 3, TTY_NR = 4, FLAGS = 6, UTIME = 11, STIME = 12;
const NUM_THREADS = 17, STARTTIME = 19, RSS = 21, STARTSTACK = 25, ARG_START = 45, ENV_START = 47, ENV_END = 48;

/** Parses the text of /proc/PID/stat; null when it is not in the kernel's format. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open + 2 || text.charCodeAt(close + 1) !== 32) return null;
  const pid = parseDecimal(text.slice(0, open));
  if (pid === null || pid <= 0) return null;
  let tail = text.slice(close + 2);
  if (tail.charCodeAt(tail.length - 1) === 10) tail = tail.slice(0, -1);
  const f = tail.split(' ');
  if (f.length <= RSS) return null;
  const state = f[STATE]!;
  if (state.length !== 1) return null;
  const ppid = parseDecimal(f[PPID]!);
  const pgrp = parseDecimal(f[PGRP]!);
  const session = parseDecimal(f[SESSION]!);
  const ttyNr = parseDecimal(f[TTY_NR]!);
  const flags = parseDecimal(f[FLAGS]!);
  const utime = parseDecimal(f[UTIME]!);
  const stime = parseDecimal(f[STIME]!);
  const numThreads = parseDecimal(f[NUM_THREADS]!);
  const startTicks = parseDecimal(f[STARTTIME]!);
  const rssPages = parseDecimal(f[RSS]!);
  if (
    ppid === null || pgrp === null || session === null || ttyNr === null || flags === null ||
    utime === null || stime === null || numThreads === null || startTicks === null || rssPages === null ||
    ppid < 0 || utime < 0 || stime < 0 || startTicks < 0 || flags < 0
  ) {
    return null;
  }
  // rss is signed in the kernel and can read slightly negative during teardown; clamp rather than reject.
  return {
    pid, comm: text.slice(open + 2, close), state, ppid, pgrp, session, ttyNr, flags, utime, stime,
    numThreads, startTicks, rssPages: rssPages < 0 ? 0 : rssPages, imageMarker: imageMarker(f),
  };
}

// Kept as text: these are addresses, and with 5-level paging they exceed 2^53.
function imageMarker(f: readonly string[]): string {
  if (f.length <= ENV_END) return '';
  const marker = `${f[STARTSTACK]}:${f[ARG_START]}:${f[ENV_START]}:${f[ENV_END]}`;
  return marker === '0:0:0:0' ? '' : marker;
}
