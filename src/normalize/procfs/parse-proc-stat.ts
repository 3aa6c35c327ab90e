// The system-wide files /proc/stat and /proc/uptime give the two clocks that turn a process's
// start ticks into wall time (btime) and its age into CPU share (uptime).
import { parseDecimal } from './parse-decimal.ts';

/** Boot time in Unix seconds from the "btime" line of /proc/stat; null when missing or malformed. */
export function parseBootTime(text: string): number | null {
  let at = 0;
  if (!text.startsWith('btime ')) {
    at = text.indexOf('\nbtime ') + 1;
    if (at === 0) return null;
  }
  let end = text.indexOf('\n', at);
  if (end === -1) end = text.length;
  const btime = parseDecimal(text.slice(at + 'btime '.length, end).trim());
  return btime !== null && btime > 0 ? btime : null;
}

/** Seconds since boot, the first number of /proc/uptime ("12345.67 23456.78"); null when malformed. */
export function parseUptime(text: string): number | null {
  const first = text.trim().split(' ')[0] ?? '';
  const dot = first.indexOf('.');
  const whole = parseDecimal(dot === -1 ? first : first.slice(0, dot));
  const frac = dot === -1 ? 0 : parseDecimal(first.slice(dot + 1));
  if (whole === null || whole < 0 || frac === null || frac < 0) return null;
  return dot === -1 ? whole : whole + frac / 10 ** (first.length - dot - 1);
}
