// /proc/PID/status: "Key:\tvalue" lines. Only the ids and the thread count are taken; the real ids say
// who started the process, the effective ones what it may do (a setuid binary makes them differ).
import { parseDecimal } from './parse-decimal.ts';

export interface ProcStatus {
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
  readonly threads: number | null;
  /** The "Kthread:" line (Linux 6.1+); null on older kernels. */
  readonly kthread: boolean | null;
}

/** Parses the text of /proc/PID/status; null when the Uid or Gid line is missing or malformed. */
export function parseStatus(text: string): ProcStatus | null {
  let uids: number[] | null = null;
  let gids: number[] | null = null;
  let threads: number | null = null;
  let kthread: boolean | null = null;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    // Only four keys matter; check the first letter before slicing to keep this cheap per line.
    const c = line.charCodeAt(0);
    if (c !== 85 /* U */ && c !== 71 /* G */ && c !== 84 /* T */ && c !== 75 /* K */) continue;
    const key = line.slice(0, colon);
    if (key === 'Uid') uids = idList(line.slice(colon + 1));
    else if (key === 'Gid') gids = idList(line.slice(colon + 1));
    else if (key === 'Threads') threads = parseDecimal(line.slice(colon + 1).trim());
    else if (key === 'Kthread') kthread = line.slice(colon + 1).trim() === '1';
  }
  if (uids === null || gids === null) return null;
  return { uid: uids[0]!, euid: uids[1]!, gid: gids[0]!, egid: gids[1]!, threads, kthread };
}

/** "\t1000\t1000\t1000\t1000" (real, effective, saved, filesystem) → the numbers; null if malformed. */
function idList(value: string): number[] | null {
  const parts = value.trim().split('\t');
  if (parts.length < 2) return null;
  const ids: number[] = [];
  for (const p of parts) {
    const n = parseDecimal(p);
    if (n === null || n < 0 || n > 0xffffffff) return null;
    ids.push(n);
  }
  return ids;
}
