// Kernel constants that turn procfs units into bytes and seconds. They are fixed for the life of the
// host, so `getconf` runs once per agent process (a few ms) and the result is kept.
import { execFileSync } from 'node:child_process';

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
