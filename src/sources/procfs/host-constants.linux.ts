// The host's clocks and units that turn procfs numbers into bytes and seconds. USER_HZ and the page
// size are fixed for the life of the host, so `getconf` runs once per agent process (a few ms).
import { execFileSync } from 'node:child_process';
import { parseBootTime, parseUptime } from '../../normalize/procfs/parse-proc-stat.ts';
import { ProcReader } from './proc-reader.ts';

let clockTicks: number | undefined;
let pageSize: number | undefined;

/** USER_HZ: the unit of utime, stime and starttime in /proc/PID/stat (100 on x86 and arm). */
export function clockTicksPerSecond(): number {
  clockTicks ??= getconf('CLK_TCK', 100);
  return clockTicks;
}

/** The unit of rss in /proc/PID/stat (4096 on x86; 16K/64K on some arm64 kernels). */
export function pageSizeBytes(): number {
  pageSize ??= getconf('PAGESIZE', 4096);
  return pageSize;
}

function getconf(name: string, fallback: number): number {
  try {
    const out = execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    const value = Number.parseInt(out.trim(), 10);
    return Number.isSafeInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** Boot time in Unix seconds from ROOT/stat, or why it cannot be had (then this is no Linux procfs). */
export function readBootTime(root: string): number | string {
  const reader = new ProcReader(1024 * 1024);
  const text = reader.readText(`${root}/stat`);
  if (text === null) return `no procfs at ${root} (${reader.error} reading ${root}/stat)`;
  return parseBootTime(text) ?? `${root}/stat has no btime line: not a Linux procfs`;
}

/** Seconds since boot from ROOT/uptime, or null. Preferred to now - btime: btime is rounded to 1 s. */
export function readUptime(root: string, reader: ProcReader): number | null {
  const text = reader.readText(`${root}/uptime`);
  return text === null ? null : parseUptime(text);
}
