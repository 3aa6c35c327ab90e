// Lifecycle events derived by diffing two scans. A process is identified by (pid, start_ticks), so a
// recycled pid is a stop plus a start, not a change. exec() keeps both pid and start time, so an exec
// shows up as 'changed' with the new executable: that is how rules see a process turn into a shell.
import type { ProcessSnapshot } from './process-snapshot.ts';

export type LifecycleKind = 'start' | 'stop' | 'changed';

export interface LifecycleEvent {
  readonly event: LifecycleKind;
  readonly pid: number;
  readonly ppid: number | null;
  readonly name: string;
  readonly executable_path: string | null;
  readonly command_line: string;
  readonly user_id: number | null;
  readonly start_time: number;
  readonly detected_at: number;
  /** For 'changed': the fields that differ. */
  readonly changed_fields: readonly string[] | null;
  /** For 'changed': the previous values of those fields. */
  readonly previous: Readonly<Record<string, unknown>> | null;
}

/** Fields whose change means the process became something else (exec, setuid, rename). */
const WATCHED_FIELDS = ['name', 'executable_path', 'command_line', 'user_id', 'effective_user_id'] as const;

export function processKey(p: Pick<ProcessSnapshot, 'pid' | 'start_ticks'>): string {
  return `${p.pid}:${p.start_ticks}`;
}

export function indexByKey(snapshots: readonly ProcessSnapshot[]): Map<string, ProcessSnapshot> {
  const m = new Map<string, ProcessSnapshot>();
  for (const s of snapshots) m.set(processKey(s), s);
  return m;
}

/**
 * Events between `previous` and `current`. With no previous scan (first run of a new store) there is
 * nothing to compare against, and reporting every process as started would only be noise.
 */
export function diffScans(
  previous: ReadonlyMap<string, ProcessSnapshot> | null,
  current: ReadonlyMap<string, ProcessSnapshot>,
  detectedAt: number,
): LifecycleEvent[] {
  if (previous === null) return [];
  const events: LifecycleEvent[] = [];
  for (const [key, now] of current) {
    const before = previous.get(key);
    if (before === undefined) {
      events.push(toEvent('start', now, detectedAt, null, null));
      continue;
    }
    const changed = WATCHED_FIELDS.filter((f) => before[f] !== now[f]);
    if (changed.length > 0) {
      const prev: Record<string, unknown> = {};
      for (const f of changed) prev[f] = before[f];
      events.push(toEvent('changed', now, detectedAt, changed, prev));
    }
  }
  for (const [key, before] of previous) {
    if (!current.has(key)) events.push(toEvent('stop', before, detectedAt, null, null));
  }
  return events;
}

function toEvent(
  event: LifecycleKind,
  p: ProcessSnapshot,
  detectedAt: number,
  changedFields: readonly string[] | null,
  previous: Record<string, unknown> | null,
): LifecycleEvent {
  return {
    event,
    pid: p.pid,
    ppid: p.ppid,
    name: p.name,
    executable_path: p.executable_path,
    command_line: p.command_line,
    user_id: p.user_id,
    start_time: p.start_time,
    detected_at: detectedAt,
    changed_fields: changedFields,
    previous,
  };
}
