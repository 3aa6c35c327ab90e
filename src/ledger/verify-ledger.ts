// `daemoneye audit verify`: recompute the whole ledger from the entry text alone and check it
// against every signed checkpoint. Nothing stored is trusted: leaf hashes are recomputed from
// `entry`, the canonical form is re-derived, the sequence is checked for gaps, and each checkpoint's
// root is recomputed and its Ed25519 signature checked with a key the caller supplies.
//
// Rows are streamed with iterate(), so memory stays O(log n) whatever the ledger's size. Problems are
// reported in the order they are found, which is sequence order; the first is the answer to "where
// does the ledger stop being trustworthy". How each kind of problem is told apart is in docs/ledger.md.
import type { KeyObject } from 'node:crypto';
import type { Db } from '../store/open-store.ts';
import { canonicalize } from './canonical-json.ts';
import { checkpointBody, checkpointOrigin, noteKeyHash, type ParsedCheckpointNote } from './checkpoint-note.ts';
import { keyIdOf, verifySignature } from './ledger-key.ts';
import { readCheckpoints } from './ledger-table.ts';
import { CompactRange, hashLeaf } from './merkle.ts';

export type LedgerProblemKind = 'edited' | 'deleted' | 'reordered' | 'inserted' | 'bad_signature' | 'root_mismatch';

export interface LedgerProblem {
  readonly kind: LedgerProblemKind;
  /**
   * The first sequence number affected. For checkpoint problems (bad_signature, root_mismatch): the
   * first entry that checkpoint covers and no earlier verified checkpoint does.
   */
  readonly seq: number;
  /** The checkpoint's tree size, for checkpoint problems. */
  readonly treeSize?: number;
  readonly message: string;
}

export interface VerifyLedgerOptions {
  /** Checkpoints kept outside the store (`audit export` output): they catch a truncated tail. */
  readonly witnessed?: readonly ParsedCheckpointNote[];
  /** Stop collecting after this many problems (default 100); the scan still runs to the end. */
  readonly maxProblems?: number;
}

export interface LedgerVerifyReport {
  readonly ok: boolean;
  /** Rows read, which is the size of the recomputed tree. */
  readonly entries: number;
  /** The root recomputed over every row. */
  readonly rootHash: Buffer;
  readonly checkpoints: number;
  readonly checkpointsVerified: number;
  /** The largest tree size whose checkpoint verified (0 when none did). */
  readonly verifiedSize: number;
  /** Entries after the last verified checkpoint: intact as far as anyone can tell, but not yet signed. */
  readonly unsigned: number;
  readonly first: LedgerProblem | null;
  readonly problems: readonly LedgerProblem[];
  /** More problems were found than maxProblems. */
  readonly truncated: boolean;
  readonly seconds: number;
}

interface Candidate {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly signedAt: number;
  readonly keyId: string | null;
  readonly signature: Buffer | null;
  readonly label: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ENTRY_KEYS = 'kind,payload,recorded_at,seq';

/** Verifies the ledger in `db` with the given public key(s) (several when the key was rotated). */
export function verifyLedger(db: Db, publicKeys: KeyObject | readonly KeyObject[], options: VerifyLedgerOptions = {}): LedgerVerifyReport {
  const started = performance.now();
  const keys = new Map<string, KeyObject>();
  for (const k of Array.isArray(publicKeys) ? publicKeys : [publicKeys as KeyObject]) keys.set(keyIdOf(k), k);
  const maxProblems = options.maxProblems ?? 100;
  const problems: Mutable<LedgerProblem>[] = [];
  let found = 0;
  const report = (p: Mutable<LedgerProblem>): Mutable<LedgerProblem> => {
    found++;
    if (problems.length < maxProblems) problems.push(p);
    return p;
  };

  const candidates = [...readCheckpoints(db).map((c): Candidate => ({ ...c, label: `checkpoint at tree size ${c.treeSize}` })),
    ...(options.witnessed ?? []).map((w) => witnessCandidate(w, keys))].sort((a, b) => a.treeSize - b.treeSize);
  let ci = 0;
  let verifiedSize = 0;
  let checkpointsVerified = 0;
  const range = new CompactRange();

  const checkCheckpoints = (): void => {
    while (ci < candidates.length && candidates[ci]!.treeSize <= range.size) {
      const c = candidates[ci++]!;
      // Only a size that is not a whole number (an altered row) can be passed without being met.
      const kind = c.treeSize === range.size ? checkCheckpoint(c, range.root(), keys)
        : { kind: 'bad_signature' as const, message: `the ${c.label} is not a valid tree size` };
      if (kind === null) {
        checkpointsVerified++;
        verifiedSize = Math.max(verifiedSize, c.treeSize);
        continue;
      }
      const last = problems[problems.length - 1];
      // Once the entries stop matching, every later checkpoint mismatches too: report the first.
      if (kind.kind === 'root_mismatch' && last?.kind === 'root_mismatch' && last.seq === verifiedSize) continue;
      report({ ...kind, seq: verifiedSize, treeSize: c.treeSize });
    }
  };
  checkCheckpoints();

  let expected = 0;
  let offset = 0; // embedded seq minus row seq on the previous row: a shifted run is reported once
  // A row that claims a later seq is a deletion (the rows after it were renumbered) unless an entry
  // claiming one of the skipped numbers turns up later (reordered) or its claim repeats (edited).
  let pending: { problem: Mutable<LedgerProblem>; from: number; to: number } | null = null;
  const rows = db.prepare('SELECT seq, kind, entry, leaf_hash, recorded_at FROM ledger_entries ORDER BY seq').raw();
  for (const [seq, kindCol, text, leafCol, recordedCol] of rows.iterate() as IterableIterator<[number, string, string, Buffer, number]>) {
    if (seq < expected) {
      report({ kind: 'inserted', seq, message: `entry ${seq} is outside the sequence (they start at 0)` });
    } else {
      if (seq > expected) {
        report({ kind: 'deleted', seq: expected, message: seq - expected === 1 ? `entry ${expected} is missing` : `entries ${expected}..${seq - 1} are missing` });
      }
      expected = seq + 1;
    }
    const leaf = hashLeaf(text);
    const entry = parseEntry(text);
    if (typeof entry === 'string') {
      report({ kind: 'edited', seq, message: `entry ${seq} ${entry}` });
    } else {
      const claimed = entry.seq;
      // A row that explains an earlier one (the other half of a swap) is not a new problem.
      let explains = false;
      if (pending !== null && claimed !== seq && claimed >= pending.from && claimed < pending.to) {
        explains = true;
        pending.problem.kind = 'reordered';
        pending.problem.message = `entry ${pending.from} is out of place: the entry stored there belongs at ${pending.to}, and entry ${claimed} is stored at ${seq}`;
        pending = null;
      } else if (pending !== null && claimed === pending.to) {
        explains = true;
        pending.problem.kind = 'edited';
        pending.problem.message = `entry ${pending.from} was edited: it claims to be entry ${claimed}, which is stored at ${seq}`;
        pending = null;
      }
      if (claimed !== seq) {
        if (claimed - seq !== offset && !explains) {
          if (claimed > seq) {
            const problem = report({ kind: 'deleted', seq, message: `entry ${seq} holds entry ${claimed}: entries ${seq}..${claimed - 1} were removed and the rest renumbered` });
            pending = { problem, from: seq, to: claimed };
          } else {
            report({ kind: 'inserted', seq: claimed, message: `entry ${seq} holds entry ${claimed}: ${seq - claimed} row(s) were inserted at ${claimed}` });
          }
        }
        offset = claimed - seq;
      } else {
        offset = 0;
        if (!leaf.equals(leafCol)) {
          report({ kind: 'edited', seq, message: `entry ${seq} was edited: its text no longer hashes to its stored leaf_hash` });
        } else if (entry.kind !== kindCol || entry.recorded_at !== recordedCol) {
          report({ kind: 'edited', seq, message: `entry ${seq} was edited: its kind or recorded_at column differs from the signed entry` });
        }
      }
    }
    range.append(leaf);
    checkCheckpoints();
  }
  // Checkpoints past the end: entries they covered are gone (a truncated tail).
  for (; ci < candidates.length; ci++) {
    const c = candidates[ci]!;
    report({ kind: 'deleted', seq: expected, treeSize: c.treeSize,
      message: `the ${c.label} covers ${c.treeSize} entries but the ledger ends at ${range.size}: entries from ${expected} were removed` });
  }

  const first = problems[0] ?? null;
  return {
    ok: found === 0, entries: range.size, rootHash: range.root(), checkpoints: candidates.length, checkpointsVerified,
    verifiedSize, unsigned: Math.max(0, range.size - verifiedSize), first, problems, truncated: found > problems.length,
    seconds: (performance.now() - started) / 1000,
  };
}

interface Entry {
  readonly seq: number;
  readonly kind: string;
  readonly recorded_at: number;
}

/** The entry's fields, or why the text is not an entry this ledger could have written. */
function parseEntry(text: string): Entry | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'was edited: it is not valid JSON';
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).sort().join(',') !== ENTRY_KEYS) {
    return 'was edited: it is not a ledger entry ({seq, kind, recorded_at, payload})';
  }
  const e = v as Record<string, unknown>;
  if (!Number.isSafeInteger(e['seq']) || typeof e['kind'] !== 'string' || !Number.isSafeInteger(e['recorded_at']) ||
    e['payload'] === null || typeof e['payload'] !== 'object' || Array.isArray(e['payload'])) {
    return 'was edited: a field has the wrong type';
  }
  let canonical: string;
  try {
    canonical = canonicalize(v);
  } catch {
    return 'was edited: it cannot be canonicalised';
  }
  if (canonical !== text) return 'was edited: it is not in canonical form (RFC 8785)';
  return e as unknown as Entry;
}

function checkCheckpoint(c: Candidate, recomputed: Buffer, keys: ReadonlyMap<string, KeyObject>): Pick<LedgerProblem, 'kind' | 'message'> | null {
  const key = c.keyId === null ? undefined : keys.get(c.keyId);
  if (key === undefined || c.signature === null) {
    return { kind: 'bad_signature', message: c.keyId === null
      ? `the ${c.label} carries no signature by the key being verified with`
      : `the ${c.label} is signed by key ${c.keyId.slice(0, 16)}…, not by the key being verified with` };
  }
  const head = { treeSize: c.treeSize, signedAt: c.signedAt, keyId: c.keyId! };
  if (verifySignature(key, checkpointBody({ ...head, rootHash: recomputed }), c.signature)) {
    if (recomputed.equals(c.rootHash)) return null;
    return { kind: 'bad_signature', message: `the ${c.label} was altered: its root_hash differs from the root that was signed (which the entries still match)` };
  }
  if (verifySignature(key, checkpointBody({ ...head, rootHash: c.rootHash }), c.signature)) {
    return { kind: 'root_mismatch', message: `the entries no longer hash to the root signed in the ${c.label}: an entry it covers was changed, removed, reordered or inserted` };
  }
  return { kind: 'bad_signature', message: `the ${c.label} does not verify: its signature, time, size or key id was altered` };
}

function witnessCandidate(w: ParsedCheckpointNote, keys: ReadonlyMap<string, KeyObject>): Candidate {
  const label = `witnessed checkpoint at tree size ${w.treeSize}`;
  for (const [keyId, key] of keys) {
    const origin = checkpointOrigin(keyId);
    if (origin !== w.origin) continue;
    const hash = noteKeyHash(origin, key);
    const sig = w.signatures.find((s) => s.name === origin && s.keyHash.equals(hash));
    // The body must be exactly what this ledger would have signed for these fields.
    const body = checkpointBody({ treeSize: w.treeSize, rootHash: w.rootHash, signedAt: w.signedAt, keyId });
    if (sig !== undefined && body === w.body) return { ...w, keyId, signature: sig.signature, label };
  }
  return { ...w, keyId: null, signature: null, label };
}
