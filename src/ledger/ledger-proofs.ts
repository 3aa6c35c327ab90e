// Inclusion and consistency proofs over the stored ledger, in the forms `daemoneye audit proof` and
// `daemoneye audit consistency` print. Subtree hashes are recomputed from the stored leaf hashes,
// streaming: a proof in a tree of n entries reads n leaf hashes and does about n hashes (about a
// second for 1,000,000 entries), and holds only O(log n) hashes in memory.
import { DaemonEyeError } from '../errors/catalogue.ts';
import type { Db } from '../store/open-store.ts';
import { ledgerSize, storedLeaves } from './ledger-table.ts';
import { consistencyProof, inclusionProof } from './merkle.ts';

export interface LedgerInclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  /** The canonical JSON entry; its RFC 6962 leaf hash is SHA-256(0x00 || entry). */
  readonly entry: string;
  readonly leafHash: Buffer;
  readonly auditPath: readonly Buffer[];
}

function checkSizes(db: Db, what: string, size: number): void {
  const n = ledgerSize(db);
  if (!Number.isSafeInteger(size) || size < 0 || size > n) {
    throw new DaemonEyeError('DE_USAGE', `${what} ${size} is not a tree size of this ledger (it has ${n} entries)`);
  }
}

/** The audit path of entry `seq` in the tree of the first `treeSize` entries. */
export function ledgerInclusionProof(db: Db, seq: number, treeSize: number): LedgerInclusionProof {
  checkSizes(db, 'tree size', treeSize);
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= treeSize) {
    throw new DaemonEyeError('DE_USAGE', `entry ${seq} is not in the tree of size ${treeSize}`);
  }
  const row = db.prepare('SELECT entry, leaf_hash FROM ledger_entries WHERE seq = ?').get(seq) as { entry: string; leaf_hash: Buffer } | undefined;
  if (row === undefined) throw new DaemonEyeError('DE_LEDGER_TAMPERED', `ledger entry ${seq} is missing`);
  return { leafIndex: seq, treeSize, entry: row.entry, leafHash: row.leaf_hash, auditPath: inclusionProof(seq, treeSize, storedLeaves(db)) };
}

/** The RFC 6962 consistency proof from the tree of the first `oldSize` entries to the first `newSize`. */
export function ledgerConsistencyProof(db: Db, oldSize: number, newSize: number): Buffer[] {
  checkSizes(db, 'tree size', newSize);
  if (!Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > newSize) {
    throw new DaemonEyeError('DE_USAGE', `a consistency proof needs 0 < OLD <= NEW, not ${oldSize} and ${newSize}`);
  }
  return consistencyProof(oldSize, newSize, storedLeaves(db));
}

/** Ledger entries of kind 'alert' whose payload names this alert (by alert_id or alert_uuid), oldest first. */
export function findAlertEntries(db: Db, alert: string): { readonly seq: number; readonly entry: string }[] {
  const asNumber = /^[0-9]+$/.test(alert) ? Number(alert) : null;
  // json_valid first: a damaged entry must not abort the search (verify reports it).
  return db.prepare(`SELECT seq, entry FROM ledger_entries WHERE kind = 'alert' AND CASE WHEN json_valid(entry) THEN
      json_extract(entry, '$.payload.alert_id') IN (?, ?) OR json_extract(entry, '$.payload.alert_uuid') = ? ELSE 0 END
      ORDER BY seq`).all(asNumber, alert, alert) as { seq: number; entry: string }[];
}
