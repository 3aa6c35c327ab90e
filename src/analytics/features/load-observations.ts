// Process observations from the store, for training (a time window) and for scoring (rows after a
// cursor). Sources: process_exec with its ancestry (kernel, every start) and process_lifecycle
// 'start' rows joined to their process_snapshots row (scans: the processes alive at a scan, with CPU
// and memory). Sibling spawn counts, fan-out and lifetime are computed here in one pass over the
// window rather than by correlated SQL subqueries, which cost O(rows x window) on a busy host.
import type { Db } from '../../store/open-store.ts';
import type { ProcessObservation } from './feature-row.ts';

const SPAWN_WINDOW_MS = 300_000;

export interface LoadRange {
  /** Observations at or after this time (ms). */
  readonly from: number;
  /** And before this time (ms). */
  readonly to: number;
  /** Only process_exec rows with a larger id (and at most `execTo`). */
  readonly execAfter?: number;
  readonly execTo?: number;
  readonly lifecycleAfter?: number;
  readonly lifecycleTo?: number;
  /**
   * Recent starts per parent pid, kept by a caller that loads incrementally (the detector): the
   * sibling counts then come from it instead of re-reading the 5 minutes before the range, which
   * at 2,000 execs a second would be 600,000 rows every kernel pass. Updated in place.
   */
  readonly recentSpawns?: Map<number, number[]>;
}

interface ExecRow { id: number; time: number; pid: number; ppid: number; user_id: number; comm: string; filename: string; command_line: string; ancestry: string | null }
interface StartRow { id: number; pid: number; ppid: number | null; start_time: number; detected_at: number; name: string; executable_path: string | null;
  command_line: string; user_id: number | null; cpu_usage: number; memory_usage: number; file_exists: number | null; parent_name: string | null; parent_path: string | null }

function parentOf(ancestry: string | null): { name: string | null; exe: string | null } {
  if (!ancestry) return { name: null, exe: null };
  try {
    const a = JSON.parse(ancestry) as { name?: string; exe?: string }[];
    return { name: a[0]?.name ?? null, exe: a[0]?.exe ?? null };
  } catch {
    return { name: null, exe: null };
  }
}

export function loadObservations(db: Db, range: LoadRange): ProcessObservation[] {
  const execAfter = range.execAfter ?? 0;
  const execTo = range.execTo ?? Number.MAX_SAFE_INTEGER;
  const lcAfter = range.lifecycleAfter ?? 0;
  const lcTo = range.lifecycleTo ?? Number.MAX_SAFE_INTEGER;
  // The rows before the range (5 minutes) only feed the sibling counts.
  const context = range.recentSpawns === undefined ? SPAWN_WINDOW_MS : 0;
  const execs = db.prepare(`SELECT id, time, pid, ppid, user_id, comm, filename, command_line, ancestry FROM process_exec
    WHERE time >= ? AND time < ? AND id <= ? ORDER BY time, id`).all(range.from - context, range.to, execTo) as ExecRow[];
  const starts = db.prepare(`SELECT l.id, l.pid, l.ppid, l.start_time, l.detected_at, s.name, s.executable_path, s.command_line,
      s.user_id, s.cpu_usage, s.memory_usage, s.file_exists, p.name AS parent_name, p.executable_path AS parent_path
    FROM process_lifecycle l
    JOIN process_snapshots s ON s.scan_id = l.scan_id AND s.pid = l.pid
    LEFT JOIN process_snapshots p ON p.scan_id = l.scan_id AND p.pid = l.ppid
    WHERE l.event = 'start' AND s.is_kernel_thread = 0 AND l.detected_at >= ? AND l.detected_at < ? AND l.id > ? AND l.id <= ?
    ORDER BY l.id`).all(range.from, range.to, lcAfter, lcTo) as StartRow[];
  const exits = new Map<number, number[]>();
  for (const x of db.prepare('SELECT pid, time FROM process_exit WHERE time >= ? ORDER BY time').iterate(range.from) as Iterable<{ pid: number; time: number }>) {
    const list = exits.get(x.pid) ?? [];
    list.push(x.time);
    exits.set(x.pid, list);
  }
  const lifetime = (pid: number, start: number): number | null => {
    const t = exits.get(pid)?.find((e) => e >= start);
    return t === undefined ? null : (t - start) / 1000;
  };
  const out: ProcessObservation[] = [];
  const recent = range.recentSpawns ?? new Map<number, number[]>();
  for (const e of execs) {
    if (e.id <= execAfter && range.recentSpawns !== undefined) continue; // already counted by the caller's map
    let list = recent.get(e.ppid);
    if (list === undefined) recent.set(e.ppid, (list = []));
    // Times arrive in order: drop the expired ones from the front (no new array per exec: a busy
    // parent has thousands of starts in its window).
    let expired = 0;
    while (expired < list.length && list[expired]! <= e.time - SPAWN_WINDOW_MS) expired++;
    if (expired > 0) list.splice(0, expired);
    list.push(e.time);
    if (e.time < range.from || e.id <= execAfter) continue;
    const parent = parentOf(e.ancestry);
    out.push({
      ref: `exec:${e.id}`, source: 'exec', pid: e.pid, ppid: e.ppid, start_time: e.time, observed_at: e.time, name: e.comm,
      executable_path: e.filename, command_line: e.command_line, parent_name: parent.name, parent_path: parent.exe,
      user: `uid:${e.user_id}`, cpu_usage: null, memory_usage: null, file_exists: null, sibling_spawns_5m: list.length,
      fan_out: 0, lifetime_s: lifetime(e.pid, e.time),
    });
  }
  if (range.recentSpawns !== undefined && recent.size > 10_000) {
    const horizon = range.to - SPAWN_WINDOW_MS;
    for (const [ppid, times] of recent) if (times[times.length - 1]! <= horizon) recent.delete(ppid);
  }
  if (starts.length > 0) {
    const fanOut = db.prepare(`SELECT count(DISTINCT remote_address || ':' || remote_port) AS n FROM network_connections
      WHERE pid = ? AND event = 'connect' AND time >= ? AND time <= ?`);
    // A scan sees the starts of one interval together: siblings are starts with the same parent in the same scan.
    const siblings = new Map<string, number>();
    for (const s of starts) siblings.set(`${s.detected_at}|${s.ppid}`, (siblings.get(`${s.detected_at}|${s.ppid}`) ?? 0) + 1);
    for (const s of starts) {
      out.push({
        ref: `lifecycle:${s.id}`, source: 'scan', pid: s.pid, ppid: s.ppid, start_time: s.start_time, observed_at: s.detected_at,
        name: s.name, executable_path: s.executable_path, command_line: s.command_line, parent_name: s.parent_name,
        parent_path: s.parent_path, user: s.user_id === null ? 'uid:?' : `uid:${s.user_id}`, cpu_usage: s.cpu_usage,
        memory_usage: s.memory_usage, file_exists: s.file_exists === null ? null : s.file_exists === 1,
        sibling_spawns_5m: siblings.get(`${s.detected_at}|${s.ppid}`) ?? 1,
        fan_out: (fanOut.get(s.pid, s.start_time, s.detected_at) as { n: number }).n, lifetime_s: lifetime(s.pid, s.start_time),
      });
    }
  }
  return out;
}

/**
 * Processes an alert was raised on (any rule) in the window, as pid → start times: retraining leaves
 * them out so an attack that was caught does not become "normal" for the next model.
 */
export function alertedProcesses(db: Db, from: number): Map<number, number[]> {
  const m = new Map<number, number[]>();
  const rows = db.prepare('SELECT pid, process_start FROM alerts WHERE pid IS NOT NULL AND last_seen >= ?').all(from) as { pid: number; process_start: number | null }[];
  for (const r of rows) {
    const list = m.get(r.pid) ?? [];
    list.push(r.process_start ?? -1);
    m.set(r.pid, list);
  }
  return m;
}

/** Exec times and procfs start times of one process differ by clock rounding: match within 2 s. */
export function wasAlerted(alerted: Map<number, number[]>, o: ProcessObservation): boolean {
  const starts = alerted.get(o.pid);
  return starts !== undefined && starts.some((s) => s === -1 || Math.abs(s - o.start_time) <= 2000);
}
