// Retention by age, then by size. Whole scans are the unit (a scan's snapshots and lifecycle rows go
// together through ON DELETE CASCADE), and the newest complete scan is always kept so `processes`
// never goes empty. Kernel events (process_exec/fork/exit) are trimmed by age and, under size
// pressure, oldest first alongside the scans. Alerts and the audit ledger are evidence: never here.
import type { Db } from './open-store.ts';

// process_exec is a view since migration 41: its rows are in process_exec_rows.
const KERNEL_TABLES = ['process_exec_rows', 'process_fork', 'process_exit', 'network_connections', 'process_security_events'] as const;
/** Tables decoded from packets, with the column their age is read from: trimmed like kernel events. */
const NETWORK_TABLES = [['network_flows', 'start_time'], ['dns_queries', 'time'], ['tls_handshakes', 'time'], ['http_requests', 'time']] as const;

export interface RetentionPolicy {
  readonly maxAgeDays: number;
  readonly maxSizeBytes: number;
}

export interface RetentionResult {
  readonly scansDeleted: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

export function applyRetention(db: Db, policy: RetentionPolicy, now = Date.now()): RetentionResult {
  const bytesBefore = storeBytes(db);
  const newest = (db.prepare(`SELECT max(scan_id) AS id FROM scans WHERE status = 'complete'`).get() as { id: number | null }).id ?? 0;
  const cutoff = now - policy.maxAgeDays * 86_400_000;
  let deleted = db.prepare('DELETE FROM scans WHERE started_at < ? AND scan_id < ?').run(cutoff, newest).changes;
  for (const table of KERNEL_TABLES) deleted += db.prepare(`DELETE FROM ${table} WHERE time < ?`).run(cutoff).changes;
  for (const [table, column] of NETWORK_TABLES) deleted += db.prepare(`DELETE FROM ${table} WHERE ${column} < ?`).run(cutoff).changes;

  // Size: drop the oldest tenth of the remaining scans at a time until under the cap, reclaiming pages.
  const oldestBatch = db.prepare('SELECT scan_id FROM scans WHERE scan_id < ? ORDER BY scan_id LIMIT ?');
  const drop = db.prepare('DELETE FROM scans WHERE scan_id <= ?');
  for (let guard = 0; guard < 64 && usedBytes(db) > policy.maxSizeBytes; guard++) {
    let removed = 0;
    const count = (db.prepare('SELECT count(*) AS n FROM scans WHERE scan_id < ?').get(newest) as { n: number }).n;
    if (count > 0) {
      const batch = oldestBatch.all(newest, Math.max(1, Math.ceil(count / 10))) as { scan_id: number }[];
      removed += drop.run(batch[batch.length - 1]!.scan_id).changes;
    }
    for (const table of [...KERNEL_TABLES, ...NETWORK_TABLES.map(([t]) => t)]) {
      const { lo, n } = db.prepare(`SELECT min(id) AS lo, count(*) AS n FROM ${table}`).get() as { lo: number | null; n: number };
      if (lo !== null) removed += db.prepare(`DELETE FROM ${table} WHERE id < ?`).run(lo + Math.max(1, Math.ceil(n / 10))).changes;
    }
    if (removed === 0) break;
    deleted += removed;
  }
  if (deleted > 0) {
    db.pragma('incremental_vacuum');
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  return { scansDeleted: deleted, bytesBefore, bytesAfter: storeBytes(db) };
}

/** Pages holding data (file size minus free pages): what deleting rows actually shrinks. */
function usedBytes(db: Db): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

function storeBytes(db: Db): number {
  return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
}
