// Small helpers shared by the benchmarks: timing, medians, and spawning synthetic processes.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/** Milliseconds of wall time for one run of a command, output discarded. */
export function timeCommand(cmd: string, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}`);
  return performance.now() - t0;
}

/**
 * Starts `count` sleeping processes from one shell (far faster than spawning each from Node) and
 * returns a function that kills them all. They are real processes in /proc, which is the point.
 */
export async function spawnSleepers(count: number): Promise<() => void> {
  if (count === 0) return () => {};
  const shell = spawn('bash', ['-c', `for i in $(seq ${count}); do sleep 900 & done; echo started; wait`], {
    stdio: ['ignore', 'pipe', 'inherit'], detached: true,
  });
  await new Promise<void>((resolve) => shell.stdout!.once('data', () => resolve()));
  return () => {
    try {
      process.kill(-shell.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
}

export function processCount(): number {
  return Number(execFileSync('bash', ['-c', 'ls -d /proc/[0-9]* | wc -l']).toString().trim());
}

/** USER_HZ: /proc/PID/stat counts CPU time in these ticks on Linux. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU ticks (utime + stime, every thread, live or exited) of one process from /proc/PID/stat, plus
 * cutime + cstime (children already waited for) when asked; null once the process is gone.
 */
export function processCpuTicks(pid: number, withChildren = false): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return null;
  }
}
