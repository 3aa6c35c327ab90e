// The audit ledger writer: append-only entries in ledger_entries, hashed into an RFC 6962 tree, with
// signed checkpoints in ledger_checkpoints (docs/ledger.md, docs/adr/0006).
//
// The table is the only truth. append() keeps no state in memory: the next sequence number is read
// from the table each time, so an append inside a caller's transaction that is rolled back leaves no
// gap. The one cache is the tree's right edge at the last checkpoint this object signed or checked,
// and it is trusted only while ledger_checkpoints still holds a row with that size and root: a
// rolled-back checkpoint, or a checkpoint signed by someone else over different leaves, makes it
// stale and the edge is rebuilt from the stored leaf hashes.
import type { Statement } from 'better-sqlite3';
import { DaemonEyeError } from '../errors/catalogue.ts';
import type { Db } from '../store/open-store.ts';
import { canonicalize } from './canonical-json.ts';
import { checkpointBody, type Checkpoint } from './checkpoint-note.ts';
import type { LedgerSigner } from './ledger-key.ts';
import { latestCheckpoint, storedLeaves, tampered } from './ledger-table.ts';
import { CompactRange, hashLeaf, type LeafSource } from './merkle.ts';

export const DEFAULT_CHECKPOINT_EVERY = 1000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;

/** Entry kinds in use. Names are append-only (STYLE.md habit 3): never rename or reuse one. */
export const LEDGER_KINDS = [
  'alert', 'alert_triage', 'rule_loaded', 'rule_changed', 'config_loaded', 'config_changed', 'sink_dead_letter', 'monitor',
] as const;

export interface LedgerOptions {
  /** Signs checkpoints; without it the ledger can append but checkpoint() throws DE_LEDGER_KEY. */
  readonly signer?: LedgerSigner | null;
  /** Checkpoint once this many entries are unsigned (default 1000). */
  readonly checkpointEvery?: number;
  /** Checkpoint once the oldest unsigned entry is this old (default 60 s). */
  readonly checkpointIntervalMs?: number;
}

export interface AppendResult {
  readonly seq: number;
  readonly leafHash: Buffer;
}

export interface CheckpointResult extends Checkpoint {
  /** False when the latest checkpoint already covered every entry and was returned as is. */
  readonly created: boolean;
}

const KIND = /^[a-z][a-z0-9_]{0,63}$/;

export class Ledger {
  readonly #db: Db;
  readonly #signer: LedgerSigner | null;
  readonly #every: number;
  readonly #intervalMs: number;
  readonly #maxSeq: Statement;
  readonly #insert: Statement;
  readonly #leaves: LeafSource;
  readonly #recordedAt: Statement;
  readonly #signedSize: Statement;
  readonly #checkpointAt: Statement;
  readonly #insertCheckpoint: Statement;
  readonly #appendTx: (kind: string, payload: Record<string, unknown>, now: number) => AppendResult;
  readonly #checkpointTx: (now: number) => CheckpointResult;
  /** The right edge at a signed size, with that root; see the header comment for when it is trusted. */
  #confirmed: { readonly range: CompactRange; readonly root: Buffer } | null = null;

  constructor(db: Db, options: LedgerOptions = {}) {
    this.#db = db;
    this.#signer = options.signer ?? null;
    this.#every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    this.#intervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (!(this.#every >= 1)) throw new RangeError('checkpointEvery must be at least 1');
    if (!(this.#intervalMs >= 0)) throw new RangeError('checkpointIntervalMs must not be negative');
    this.#maxSeq = db.prepare('SELECT max(seq) FROM ledger_entries').pluck();
    this.#insert = db.prepare('INSERT INTO ledger_entries (seq, kind, entry, leaf_hash, recorded_at) VALUES (?, ?, ?, ?, ?)');
    this.#leaves = storedLeaves(db);
    this.#recordedAt = db.prepare('SELECT recorded_at FROM ledger_entries WHERE seq = ?').pluck();
    this.#signedSize = db.prepare('SELECT max(tree_size) FROM ledger_checkpoints').pluck();
    this.#checkpointAt = db.prepare('SELECT root_hash FROM ledger_checkpoints WHERE tree_size = ?').pluck();
    this.#insertCheckpoint = db.prepare('INSERT INTO ledger_checkpoints (tree_size, root_hash, signed_at, key_id, signature) VALUES (?, ?, ?, ?, ?)');
    // IMMEDIATE when we own the transaction: the read of max(seq) and the insert must not interleave
    // with another writer (`daemoneye audit checkpoint` beside the agent).
    this.#appendTx = db.transaction((kind: string, payload: Record<string, unknown>, now: number) => this.#appendNow(kind, payload, now)).immediate;
    this.#checkpointTx = db.transaction((now: number) => this.#checkpointNow(now)).immediate;
  }

  get signer(): LedgerSigner | null {
    return this.#signer;
  }

  /**
   * Appends one entry: canonical JSON of { seq, kind, recorded_at, payload }. Synchronous, so it can
   * run inside the caller's better-sqlite3 transaction (the alert and its ledger entry commit together).
   */
  append(kind: string, payload: Record<string, unknown>, now: number = Date.now()): AppendResult {
    if (!KIND.test(kind)) throw new TypeError(`ledger entry kind must be snake_case (a-z, 0-9, _), not ${JSON.stringify(kind)}`);
    if (!Number.isSafeInteger(now)) throw new TypeError(`recorded_at must be integer milliseconds, not ${now}`);
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new TypeError('ledger payload must be a plain object');
    return this.#db.inTransaction ? this.#appendNow(kind, payload, now) : this.#appendTx(kind, payload, now);
  }

  #appendNow(kind: string, payload: Record<string, unknown>, now: number): AppendResult {
    const max = this.#maxSeq.get() as number | null;
    const seq = max === null ? 0 : max + 1;
    const entry = canonicalize({ seq, kind, recorded_at: now, payload });
    const leafHash = hashLeaf(entry);
    this.#insert.run(seq, kind, entry, leafHash, now);
    return { seq, leafHash };
  }

  /** Entries in the ledger (max(seq) + 1). */
  size(): number {
    const max = this.#maxSeq.get() as number | null;
    return max === null ? 0 : max + 1;
  }

  latestCheckpoint(): Checkpoint | null {
    return latestCheckpoint(this.#db);
  }

  /** The current tree size and root, unsigned. */
  treeHead(): { readonly treeSize: number; readonly rootHash: Buffer } {
    const range = this.#currentRange(this.latestCheckpoint());
    return { treeSize: range.size, rootHash: range.root() };
  }

  /** Signs a checkpoint when `checkpointEvery` entries or `checkpointIntervalMs` have passed unsigned. */
  checkpointIfDue(now: number = Date.now()): CheckpointResult | null {
    // Called after every append or batch: two indexed lookups, nothing else, unless one is due.
    const n = this.size();
    const signed = (this.#signedSize.get() as number | null) ?? 0;
    if (n <= signed) return null;
    if (n - signed >= this.#every) return this.checkpoint(now);
    const oldest = this.#recordedAt.get(signed) as number | undefined;
    if (oldest !== undefined && now - oldest >= this.#intervalMs) return this.checkpoint(now);
    return null;
  }

  /** Signs a checkpoint over every entry now in the table (or returns the latest if it covers them all). */
  checkpoint(now: number = Date.now()): CheckpointResult {
    if (this.#signer === null) {
      throw new DaemonEyeError('DE_LEDGER_KEY', 'this ledger was opened without its signing key, so it cannot checkpoint');
    }
    if (!Number.isSafeInteger(now)) throw new TypeError(`signed_at must be integer milliseconds, not ${now}`);
    return this.#db.inTransaction ? this.#checkpointNow(now) : this.#checkpointTx(now);
  }

  #checkpointNow(now: number): CheckpointResult {
    const signer = this.#signer!;
    const latest = this.latestCheckpoint();
    const range = this.#currentRange(latest);
    if (latest !== null && latest.treeSize === range.size) return { ...latest, created: false };
    const head = { treeSize: range.size, rootHash: range.root(), signedAt: now, keyId: signer.keyId };
    const signature = signer.sign(checkpointBody(head));
    this.#insertCheckpoint.run(head.treeSize, head.rootHash, head.signedAt, head.keyId, signature);
    this.#confirmed = { range, root: head.rootHash };
    return { ...head, signature, created: true };
  }

  /**
   * The right edge over every entry in the table. Starts from the confirmed edge when it is still
   * backed by a checkpoint row, else from nothing; and refuses (DE_LEDGER_TAMPERED) to go past the
   * latest checkpoint with a different root: a log must never sign a tree inconsistent with one it
   * signed before.
   */
  #currentRange(latest: Checkpoint | null): CompactRange {
    const n = this.size();
    if (latest !== null && latest.treeSize > n) {
      throw tampered(`the latest ledger checkpoint covers ${latest.treeSize} entries but the ledger has ${n}; refusing to sign`);
    }
    const c = this.#confirmed;
    const usable = c !== null && c.range.size <= n && (c.range.size === 0 ||
      (this.#checkpointAt.get(c.range.size) as Buffer | undefined)?.equals(c.root) === true);
    if (!usable) this.#confirmed = null;
    const range = usable ? c.range.clone() : new CompactRange();
    const check = (): void => {
      if (latest === null || range.size !== latest.treeSize) return;
      const root = range.root();
      if (!root.equals(latest.rootHash)) {
        throw tampered(`the stored ledger entries no longer hash to the root signed at tree size ${latest.treeSize}; refusing to sign a new checkpoint`);
      }
      this.#confirmed = { range: range.clone(), root };
    };
    check();
    for (const leaf of this.#leaves(range.size, n)) {
      range.append(leaf);
      check();
    }
    return range;
  }
}
