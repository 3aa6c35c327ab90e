// Tampering with a real SQLite store the way an intruder with write access to the file would, and
// checking that verify names the first bad sequence number and what was done.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStoreForWriting, type Db } from '../store/open-store.ts';
import { canonicalize } from './canonical-json.ts';
import { formatSignedNote, parseCheckpointNotes } from './checkpoint-note.ts';
import { Ledger } from './ledger.ts';
import { ephemeralSigner } from './ledger-key.ts';
import { readCheckpoints } from './ledger-table.ts';
import { hashLeaf } from './merkle.ts';
import { verifyLedger, type LedgerVerifyReport } from './verify-ledger.ts';

const work = mkdtempSync(join(tmpdir(), 'de-ledger-verify-'));
after(() => rmSync(work, { recursive: true, force: true }));
const signer = ephemeralSigner();
let n = 0;

/** A store file with 2,500 entries and checkpoints every 500 (at 500, 1000, ..., 2500). */
function store(entries = 2500): { db: Db; ledger: Ledger } {
  const db = openStoreForWriting(join(work, `store-${n++}.db`));
  const ledger = new Ledger(db, { signer, checkpointEvery: 500 });
  db.transaction(() => {
    for (let i = 0; i < entries; i++) {
      ledger.append(i % 4 === 0 ? 'alert' : 'monitor', { alert_id: i, note: `event ${i}` }, 1_700_000_000_000 + i);
      ledger.checkpointIfDue(1_700_000_000_000 + i);
    }
  })();
  return { db, ledger };
}

function expectProblem(r: LedgerVerifyReport, kind: string, seq: number, treeSize?: number): void {
  assert.equal(r.ok, false, 'verify must fail');
  assert.ok(r.first !== null);
  assert.deepEqual({ kind: r.first.kind, seq: r.first.seq, ...(treeSize === undefined ? {} : { treeSize: r.first.treeSize }) },
    { kind, seq, ...(treeSize === undefined ? {} : { treeSize }) }, JSON.stringify(r.problems.slice(0, 4), null, 1));
}

/** Rewrites entry `seq` the careful way: new text, re-canonicalised, with a matching leaf hash. */
function forge(db: Db, seq: number, change: (e: Record<string, unknown>) => void): void {
  const e = JSON.parse(db.prepare('SELECT entry FROM ledger_entries WHERE seq = ?').pluck().get(seq) as string) as Record<string, unknown>;
  change(e);
  const text = canonicalize(e);
  db.prepare('UPDATE ledger_entries SET entry = ?, leaf_hash = ? WHERE seq = ?').run(text, hashLeaf(text), seq);
}

/** Moves rows [from, ∞) by `by` (the primary key forbids doing it in one UPDATE). */
function shift(db: Db, from: number, by: number): void {
  db.prepare('UPDATE ledger_entries SET seq = -seq - 1000000 WHERE seq >= ?').run(from);
  db.prepare('UPDATE ledger_entries SET seq = -(seq + 1000000) + ? WHERE seq < 0').run(by);
}

test('an untouched ledger verifies: every checkpoint, nothing unsigned', () => {
  const { db } = store();
  const r = verifyLedger(db, signer.publicKey);
  assert.ok(r.ok, JSON.stringify(r.problems));
  assert.deepEqual([r.entries, r.checkpoints, r.checkpointsVerified, r.verifiedSize, r.unsigned], [2500, 5, 5, 2500, 0]);
  assert.equal(r.first, null);
});

test('edited entry text is "edited" at its sequence number', () => {
  const { db } = store();
  db.prepare("UPDATE ledger_entries SET entry = replace(entry, 'event 1234', 'event 1235') WHERE seq = 1234").run();
  const r = verifyLedger(db, signer.publicKey);
  expectProblem(r, 'edited', 1234);
  assert.match(r.first!.message, /no longer hashes to its stored leaf_hash/);
  // The checkpoint covering it fails as a consequence, after it.
  assert.equal(r.problems[1]?.kind, 'root_mismatch');
  assert.equal(r.problems[1]?.treeSize, 1500);
});

test('a careful edit (canonical text, matching leaf hash) is caught by the checkpoint root: root_mismatch from the last good checkpoint', () => {
  const { db } = store();
  forge(db, 1234, (e) => {
    (e['payload'] as Record<string, unknown>)['note'] = 'nothing to see';
  });
  const r = verifyLedger(db, signer.publicKey);
  expectProblem(r, 'root_mismatch', 1000, 1500);
  assert.equal(r.verifiedSize, 1000);
  assert.equal(r.problems.filter((p) => p.kind === 'root_mismatch').length, 1, 'later checkpoints are not reported again');
});

test('text that is not canonical, or columns that disagree with the entry, are "edited"', () => {
  const { db } = store();
  const text = (db.prepare('SELECT entry FROM ledger_entries WHERE seq = 42').pluck().get() as string).replace(':', ': ');
  db.prepare('UPDATE ledger_entries SET entry = ?, leaf_hash = ? WHERE seq = 42').run(text, hashLeaf(text));
  expectProblem(verifyLedger(db, signer.publicKey), 'edited', 42);
  assert.match(verifyLedger(db, signer.publicKey).first!.message, /canonical/);
  const other = store();
  other.db.prepare("UPDATE ledger_entries SET kind = 'monitor' WHERE seq = 800").run();
  expectProblem(verifyLedger(other.db, signer.publicKey), 'edited', 800);
  const third = store();
  third.db.prepare("UPDATE ledger_entries SET entry = '{oops' WHERE seq = 7").run();
  expectProblem(verifyLedger(third.db, signer.publicKey), 'edited', 7);
});

test('a deleted row is "deleted" at its sequence number, whether or not the rest were renumbered', () => {
  const { db } = store();
  db.prepare('DELETE FROM ledger_entries WHERE seq = 1234').run();
  expectProblem(verifyLedger(db, signer.publicKey), 'deleted', 1234);
  const renumbered = store();
  renumbered.db.prepare('DELETE FROM ledger_entries WHERE seq BETWEEN 1234 AND 1236').run();
  shift(renumbered.db, 1237, -3);
  const r = verifyLedger(renumbered.db, signer.publicKey);
  expectProblem(r, 'deleted', 1234);
  assert.match(r.first!.message, /1234\.\.1236 were removed/);
  assert.equal(r.problems.filter((p) => p.kind === 'deleted').length, 2, 'the shifted run is reported once, plus the checkpoints past the end');
});

test('two rows swapped are "reordered" at the first of them', () => {
  const { db } = store();
  const get = db.prepare('SELECT kind, entry, leaf_hash, recorded_at FROM ledger_entries WHERE seq = ?');
  const set = db.prepare('UPDATE ledger_entries SET kind = @kind, entry = @entry, leaf_hash = @leaf_hash, recorded_at = @recorded_at WHERE seq = @seq');
  const a = get.get(1234) as Record<string, unknown>;
  const b = get.get(1240) as Record<string, unknown>;
  set.run({ ...b, seq: 1234 });
  set.run({ ...a, seq: 1240 });
  const r = verifyLedger(db, signer.publicKey);
  expectProblem(r, 'reordered', 1234);
  assert.match(r.first!.message, /belongs at 1240/);
  assert.deepEqual(r.problems.map((p) => p.kind), ['reordered', 'root_mismatch'], 'the other half of the swap is not a second problem');
  // Swapping only the entry text (leaving the leaf hashes behind) reads the same way.
  const textOnly = store();
  const text = textOnly.db.prepare('SELECT entry FROM ledger_entries WHERE seq = ?').pluck();
  const [t1, t2] = [text.get(17), text.get(18)];
  textOnly.db.prepare('UPDATE ledger_entries SET entry = ? WHERE seq = ?').run(t2, 17);
  textOnly.db.prepare('UPDATE ledger_entries SET entry = ? WHERE seq = ?').run(t1, 18);
  expectProblem(verifyLedger(textOnly.db, signer.publicKey), 'reordered', 17);
  // Changing only the seq an entry claims is an edit, not a deletion.
  const claimed = store();
  forge(claimed.db, 300, (e) => {
    e['seq'] = 301;
  });
  expectProblem(verifyLedger(claimed.db, signer.publicKey), 'edited', 300);
});

test('an inserted row is "inserted" at its sequence number, even when it is itself well formed', () => {
  const { db } = store();
  shift(db, 1234, 1);
  const text = canonicalize({ seq: 1234, kind: 'monitor', recorded_at: 1_700_000_001_234, payload: { note: 'all quiet' } });
  db.prepare('INSERT INTO ledger_entries (seq, kind, entry, leaf_hash, recorded_at) VALUES (1234, ?, ?, ?, ?)').run('monitor', text, hashLeaf(text), 1_700_000_001_234);
  const r = verifyLedger(db, signer.publicKey);
  expectProblem(r, 'inserted', 1234);
  const outside = store(10);
  const t = canonicalize({ seq: -1, kind: 'monitor', recorded_at: 0, payload: {} });
  outside.db.prepare('INSERT INTO ledger_entries VALUES (-1, ?, ?, ?, 0)').run('monitor', t, hashLeaf(t));
  expectProblem(verifyLedger(outside.db, signer.publicKey), 'inserted', -1);
});

test('a changed checkpoint signature, time or root is "bad_signature" from the entries it alone covers', () => {
  const { db } = store();
  const sig = db.prepare('SELECT signature FROM ledger_checkpoints WHERE tree_size = 1500').pluck().get() as Buffer;
  sig[10]! ^= 0xff;
  db.prepare('UPDATE ledger_checkpoints SET signature = ? WHERE tree_size = 1500').run(sig);
  const r = verifyLedger(db, signer.publicKey);
  expectProblem(r, 'bad_signature', 1000, 1500);
  assert.equal(r.checkpointsVerified, 4, 'the others still verify');
  assert.equal(r.verifiedSize, 2500);
  const timed = store();
  timed.db.prepare('UPDATE ledger_checkpoints SET signed_at = signed_at + 1 WHERE tree_size = 2000').run();
  expectProblem(verifyLedger(timed.db, signer.publicKey), 'bad_signature', 1500, 2000);
  const rooted = store();
  rooted.db.prepare('UPDATE ledger_checkpoints SET root_hash = zeroblob(32) WHERE tree_size = 500').run();
  const rr = verifyLedger(rooted.db, signer.publicKey);
  expectProblem(rr, 'bad_signature', 0, 500);
  assert.match(rr.first!.message, /root_hash differs/);
});

test('checkpoints are checked against the key given, not the one the store names', () => {
  const { db } = store(600);
  const stranger = ephemeralSigner();
  const r = verifyLedger(db, stranger.publicKey);
  expectProblem(r, 'bad_signature', 0, 500);
  assert.match(r.first!.message, /not by the key being verified with/);
  assert.ok(verifyLedger(db, [stranger.publicKey, signer.publicKey]).ok, 'a list of keys (after a rotation) is accepted');
});

test('a tail cut off after a checkpoint is "deleted" at the first missing entry', () => {
  const { db } = store();
  db.prepare('DELETE FROM ledger_entries WHERE seq >= 2200').run();
  const r = verifyLedger(db, signer.publicKey);
  expectProblem(r, 'deleted', 2200, 2500);
  assert.equal(r.verifiedSize, 2000);
});

test('a tail cut off together with its checkpoints is invisible inside the store, and caught by exported checkpoints', () => {
  const { db } = store();
  const exported = readCheckpoints(db).map((c) => formatSignedNote(c, signer.publicKey)).join('\n');
  db.prepare('DELETE FROM ledger_entries WHERE seq >= 2200').run();
  db.prepare('DELETE FROM ledger_checkpoints WHERE tree_size > 2000').run();
  assert.ok(verifyLedger(db, signer.publicKey).ok, 'the limit docs/ledger.md states: checkpoints kept elsewhere are needed');
  const r = verifyLedger(db, signer.publicKey, { witnessed: parseCheckpointNotes(exported) });
  expectProblem(r, 'deleted', 2200, 2500);
  // Exported checkpoints that match the store verify like the store's own.
  const intact = store();
  const witnessed = parseCheckpointNotes(readCheckpoints(intact.db).map((c) => formatSignedNote(c, signer.publicKey)).join('\n'));
  const ok = verifyLedger(intact.db, signer.publicKey, { witnessed });
  assert.ok(ok.ok);
  assert.equal(ok.checkpointsVerified, 10);
});

test('entries after the last checkpoint are reported as unsigned, not as a problem', () => {
  const { db, ledger } = store(1200);
  ledger.append('monitor', { late: true });
  const r = verifyLedger(db, signer.publicKey);
  assert.ok(r.ok);
  assert.deepEqual([r.entries, r.verifiedSize, r.unsigned], [1201, 1000, 201]);
});
