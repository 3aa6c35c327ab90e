// Writes one scan (its snapshots and the lifecycle events derived from it) in one transaction, so a
// crash or SIGKILL leaves either the whole scan or none of it: `processes` never shows half a scan.
import type { Statement } from 'better-sqlite3';
import type { LifecycleEvent } from '../normalize/lifecycle-diff.ts';
import { PROCESS_SNAPSHOT_COLUMNS, type ProcessSnapshot } from '../normalize/process-snapshot.ts';
import type { Db } from './open-store.ts';

export interface ScanRecord {
  readonly host: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly snapshots: readonly ProcessSnapshot[];
  readonly inaccessible: number;
  readonly vanished: number;
}

export class ScanWriter {
  readonly #db: Db;
  readonly #insertScan: Statement;
  readonly #insertSnapshot: Statement;
  readonly #insertLifecycle: Statement;
  readonly #write: (scan: ScanRecord, lifecycle: readonly LifecycleEvent[]) => number;

  constructor(db: Db) {
    this.#db = db;
    this.#insertScan = db.prepare(
      `INSERT INTO scans (host, started_at, finished_at, status, process_count, inaccessible_count, vanished_count, duration_ms)
       VALUES (?, ?, ?, 'complete', ?, ?, ?, ?)`,
    );
    const cols = PROCESS_SNAPSHOT_COLUMNS.join(', ');
    const marks = PROCESS_SNAPSHOT_COLUMNS.map(() => '?').join(', ');
    this.#insertSnapshot = db.prepare(`INSERT INTO process_snapshots (scan_id, ${cols}) VALUES (?, ${marks})`);
    this.#insertLifecycle = db.prepare(
      `INSERT INTO process_lifecycle (scan_id, event, pid, ppid, name, executable_path, command_line, user_id,
         start_time, detected_at, changed_fields, previous) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#write = db.transaction((scan: ScanRecord, lifecycle: readonly LifecycleEvent[]) => {
      const { lastInsertRowid } = this.#insertScan.run(
        scan.host, scan.startedAt, scan.finishedAt, scan.snapshots.length, scan.inaccessible, scan.vanished,
        scan.finishedAt - scan.startedAt,
      );
      const scanId = Number(lastInsertRowid);
      const values: unknown[] = new Array(PROCESS_SNAPSHOT_COLUMNS.length + 1);
      values[0] = scanId;
      for (const s of scan.snapshots) {
        for (let i = 0; i < PROCESS_SNAPSHOT_COLUMNS.length; i++) values[i + 1] = s[PROCESS_SNAPSHOT_COLUMNS[i]!];
        this.#insertSnapshot.run(values);
      }
      for (const e of lifecycle) {
        this.#insertLifecycle.run(
          scanId, e.event, e.pid, e.ppid, e.name, e.executable_path, e.command_line, e.user_id, e.start_time,
          e.detected_at, e.changed_fields === null ? null : JSON.stringify(e.changed_fields),
          e.previous === null ? null : JSON.stringify(e.previous),
        );
      }
      return scanId;
    });
  }

  /** Stores the scan and its lifecycle events atomically; returns the new scan_id. */
  write(scan: ScanRecord, lifecycle: readonly LifecycleEvent[]): number {
    return this.#write(scan, lifecycle);
  }

  /** The snapshots of the latest complete scan: the baseline to diff against after a restart. */
  latestSnapshots(): ProcessSnapshot[] | null {
    const row = this.#db.prepare(`SELECT max(scan_id) AS id FROM scans WHERE status = 'complete'`).get() as
      | { id: number | null }
      | undefined;
    if (row?.id == null) return null;
    return this.#db.prepare('SELECT * FROM process_snapshots WHERE scan_id = ?').all(row.id) as ProcessSnapshot[];
  }
}
