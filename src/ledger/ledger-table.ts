// Reading the two ledger tables (schema v3, docs/schema.md): checkpoints as typed values, the tree
// size, and leaf hashes streamed in order. Shared by the writer, the proofs and the CLI.
import { DaemonEyeError } from '../errors/catalogue.ts';
import type { Db } from '../store/open-store.ts';
import type { Checkpoint } from './checkpoint-note.ts';
import type { LeafSource } from './merkle.ts';

export interface CheckpointRow {
  readonly tree_size: number;
  readonly root_hash: Buffer;
  readonly signed_at: number;
  readonly key_id: string;
  readonly signature: Buffer;
}

export function toCheckpoint(r: CheckpointRow): Checkpoint {
  return { treeSize: r.tree_size, rootHash: r.root_hash, signedAt: r.signed_at, keyId: r.key_id, signature: r.signature };
}

export function readCheckpoints(db: Db): Checkpoint[] {
  return (db.prepare('SELECT * FROM ledger_checkpoints ORDER BY tree_size').all() as CheckpointRow[]).map(toCheckpoint);
}

export function readCheckpoint(db: Db, treeSize: number): Checkpoint | null {
  const r = db.prepare('SELECT * FROM ledger_checkpoints WHERE tree_size = ?').get(treeSize) as CheckpointRow | undefined;
  return r === undefined ? null : toCheckpoint(r);
}

export function latestCheckpoint(db: Db): Checkpoint | null {
  const r = db.prepare('SELECT * FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1').get() as CheckpointRow | undefined;
  return r === undefined ? null : toCheckpoint(r);
}

/** max(seq) + 1: the tree size once every entry is included (equal to the row count unless rows were deleted). */
export function ledgerSize(db: Db): number {
  const max = db.prepare('SELECT max(seq) FROM ledger_entries').pluck().get() as number | null;
  return max === null ? 0 : max + 1;
}

export function tampered(message: string): DaemonEyeError {
  return new DaemonEyeError('DE_LEDGER_TAMPERED', message, {
    hint: 'keep the store as evidence; `daemoneye audit verify` lists every problem',
  });
}

// Leaf hashes are fetched 4,096 at a time as one hex string built inside SQLite: a third of the time
// of stepping through the rows one by one (better-sqlite3 costs about 1 µs a row), which is what
// proofs and rebuilding the tree edge of a 1,000,000-entry ledger spend most of their time on.
const CHUNK = 4096;

/**
 * The stored leaf hashes as a LeafSource. A missing sequence number, or a leaf hash that is not 32
 * bytes, is tampering, and is reported as such rather than producing a proof for a different tree.
 */
export function storedLeaves(db: Db): LeafSource {
  const chunk = db.prepare(`SELECT count(*), min(seq), total(length(leaf_hash) <> 32), group_concat(hex(leaf_hash), '' ORDER BY seq)
    FROM ledger_entries WHERE seq >= ? AND seq < ?`).raw();
  const seqs = db.prepare('SELECT seq FROM ledger_entries WHERE seq >= ? AND seq < ? ORDER BY seq').pluck();
  const firstMissing = (lo: number, hi: number): number => {
    let expected = lo;
    for (const seq of seqs.all(lo, hi) as number[]) {
      if (seq !== expected) break;
      expected++;
    }
    return expected;
  };
  return function* (start: number, end: number) {
    for (let lo = start; lo < end; lo += CHUNK) {
      const hi = Math.min(lo + CHUNK, end);
      const [count, min, wrongLength, hex] = chunk.get(lo, hi) as [number, number | null, number, string | null];
      // Sequence numbers are unique integers, so hi - lo rows starting at lo means no gap.
      if (count !== hi - lo || min !== lo) throw tampered(`ledger entry ${firstMissing(lo, hi)} is missing (run \`daemoneye audit verify\`)`);
      if (wrongLength > 0 || hex === null) throw tampered(`a ledger leaf hash in ${lo}..${hi - 1} is not 32 bytes (run \`daemoneye audit verify\`)`);
      const hashes = Buffer.from(hex, 'hex');
      for (let i = 0; i < count; i++) yield hashes.subarray(i * 32, i * 32 + 32);
    }
  };
}
