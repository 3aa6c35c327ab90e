import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { test } from 'node:test';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import { openMemoryStore, type Db } from '../store/open-store.ts';
import { formatSignedNote, parseCheckpointNotes } from './checkpoint-note.ts';
import { Ledger } from './ledger.ts';
import { ephemeralSigner } from './ledger-key.ts';
import { findAlertEntries, ledgerConsistencyProof, ledgerInclusionProof } from './ledger-proofs.ts';
import { readCheckpoints } from './ledger-table.ts';
import { refLeafHash, refRoot, refVerifyConsistency, refVerifyInclusion } from './testing/rfc6962-reference.ts';
import { verifyLedger } from './verify-ledger.ts';

const signer = ephemeralSigner();

function setup(options: { every?: number; intervalMs?: number } = {}): { db: Db; ledger: Ledger } {
  const db = openMemoryStore();
  return { db, ledger: new Ledger(db, { signer, checkpointEvery: options.every ?? 1000, checkpointIntervalMs: options.intervalMs ?? 60_000 }) };
}

/** The root recomputed independently from the entry text in the table. */
function tableRoot(db: Db, size?: number): Buffer {
  const rows = db.prepare('SELECT entry FROM ledger_entries ORDER BY seq').pluck().all() as string[];
  return refRoot(rows.slice(0, size ?? rows.length).map((e) => refLeafHash(Buffer.from(e, 'utf8'))));
}

const seqs = (db: Db): number[] => db.prepare('SELECT seq FROM ledger_entries ORDER BY seq').pluck().all() as number[];

test('an entry is the canonical JSON of {seq, kind, recorded_at, payload}; its leaf hash is SHA-256(0x00 || entry)', () => {
  const { db, ledger } = setup();
  const r = ledger.append('alert', { summary: 'é', alert_id: 7, rule_id: 'DE-LNX-0001', z: [1, { b: 2, a: 1 }] }, 1_700_000_000_123);
  assert.equal(r.seq, 0);
  const row = db.prepare('SELECT * FROM ledger_entries').get() as { seq: number; kind: string; entry: string; leaf_hash: Buffer; recorded_at: number };
  assert.equal(row.entry, '{"kind":"alert","payload":{"alert_id":7,"rule_id":"DE-LNX-0001","summary":"é","z":[1,{"a":1,"b":2}]},"recorded_at":1700000000123,"seq":0}');
  assert.deepEqual([row.seq, row.kind, row.recorded_at], [0, 'alert', 1_700_000_000_123]);
  const expected = createHash('sha256').update(Buffer.from([0])).update(row.entry, 'utf8').digest();
  assert.ok(row.leaf_hash.equals(expected));
  assert.ok(r.leafHash.equals(expected));
});

test('sequence numbers continue from the table, across Ledger objects, without gaps', () => {
  const { db, ledger } = setup();
  for (let i = 0; i < 5; i++) assert.equal(ledger.append('monitor', { i }).seq, i);
  const other = new Ledger(db);
  assert.equal(other.append('monitor', { i: 5 }).seq, 5);
  assert.equal(ledger.append('monitor', { i: 6 }).seq, 6);
  assert.deepEqual(seqs(db), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(ledger.size(), 7);
});

test('bad kinds, timestamps and payloads are refused before anything is written', () => {
  const { db, ledger } = setup();
  assert.throws(() => ledger.append('Alert Raised', {}), TypeError);
  assert.throws(() => ledger.append('alert', {}, 1.5), TypeError);
  assert.throws(() => ledger.append('alert', [] as unknown as Record<string, unknown>), TypeError);
  assert.throws(() => ledger.append('alert', { when: new Date() }), /\$\.payload\.when: a Date/);
  assert.throws(() => ledger.append('alert', { n: 10n }), /bigint/);
  assert.deepEqual(seqs(db), []);
  assert.equal(ledger.append('alert', {}).seq, 0);
});

test('appends inside a caller transaction that rolls back leave no gap, and the next checkpoint is right', () => {
  const { db, ledger } = setup();
  ledger.append('monitor', { i: 0 });
  ledger.append('monitor', { i: 1 });
  const failing = db.transaction(() => {
    ledger.append('alert', { alert_id: 1 });
    ledger.append('alert', { alert_id: 2 });
    throw new Error('the alert insert failed');
  });
  assert.throws(failing, /alert insert failed/);
  assert.deepEqual(seqs(db), [0, 1]);
  // A nested transaction (savepoint) that rolls back inside one that commits.
  db.transaction(() => {
    ledger.append('alert', { alert_id: 3 });
    try {
      db.transaction(() => {
        ledger.append('alert', { alert_id: 4 });
        throw new Error('inner');
      })();
    } catch {
      /* the savepoint rolled back */
    }
    ledger.append('alert', { alert_id: 5 });
  })();
  assert.deepEqual(seqs(db), [0, 1, 2, 3]);
  assert.deepEqual((db.prepare('SELECT entry FROM ledger_entries').pluck().all() as string[]).map((e) => JSON.parse(e).payload.alert_id ?? null), [null, null, 3, 5]);
  const cp = ledger.checkpoint(1000);
  assert.equal(cp.treeSize, 4);
  assert.ok(cp.rootHash.equals(tableRoot(db)));
});

test('a checkpoint rolled back with its transaction does not poison the cached tree edge', () => {
  const { db, ledger } = setup();
  for (let i = 0; i < 10; i++) ledger.append('monitor', { i });
  ledger.checkpoint(1);
  assert.throws(db.transaction(() => {
    for (let i = 0; i < 5; i++) ledger.append('monitor', { doomed: i });
    const cp = ledger.checkpoint(2); // signs 15 entries, then everything rolls back
    assert.equal(cp.treeSize, 15);
    throw new Error('rollback');
  }), /rollback/);
  assert.deepEqual(readCheckpoints(db).map((c) => c.treeSize), [10]);
  // Different entries now take seq 10..14: the edge cached at 15 must not be reused.
  for (let i = 0; i < 5; i++) ledger.append('monitor', { kept: i });
  const cp = ledger.checkpoint(3);
  assert.equal(cp.treeSize, 15);
  assert.ok(cp.rootHash.equals(tableRoot(db)));
  // The same again when the rolled-back checkpoint was at the same size as the next real one.
  assert.throws(db.transaction(() => {
    ledger.append('monitor', { doomed: true });
    ledger.checkpoint(4);
    throw new Error('rollback');
  }));
  ledger.append('monitor', { kept: 'last' });
  assert.ok(ledger.checkpoint(5).rootHash.equals(tableRoot(db)));
  const report = verifyLedger(db, signer.publicKey);
  assert.ok(report.ok, JSON.stringify(report.problems));
  assert.equal(report.checkpointsVerified, 3);
});

test('checkpointIfDue: every N entries, or when the oldest unsigned entry is T old; never an empty one', () => {
  const { db, ledger } = setup({ every: 10, intervalMs: 5000 });
  assert.equal(ledger.checkpointIfDue(0), null, 'nothing to sign');
  const t0 = 1_000_000;
  for (let i = 0; i < 9; i++) ledger.append('monitor', { i }, t0 + i);
  assert.equal(ledger.checkpointIfDue(t0 + 100), null);
  ledger.append('monitor', { i: 9 }, t0 + 9);
  assert.equal(ledger.checkpointIfDue(t0 + 100)?.treeSize, 10);
  assert.equal(ledger.checkpointIfDue(t0 + 100), null, 'nothing new');
  ledger.append('monitor', { i: 10 }, t0 + 200);
  assert.equal(ledger.checkpointIfDue(t0 + 200 + 4999), null);
  const timed = ledger.checkpointIfDue(t0 + 200 + 5000);
  assert.equal(timed?.treeSize, 11);
  assert.equal(timed?.signedAt, t0 + 5200);
  assert.deepEqual(readCheckpoints(db).map((c) => c.treeSize), [10, 11]);
});

test('the checkpoint signs the documented text, which an outside verifier can rebuild from the row', () => {
  const { db, ledger } = setup();
  for (let i = 0; i < 3; i++) ledger.append('monitor', { i });
  const cp = ledger.checkpoint(1_767_225_600_000);
  assert.equal(cp.created, true);
  const body = `daemoneye-ledger/v1/${signer.keyId.slice(0, 16)}\n3\n${tableRoot(db).toString('base64')}\n1767225600000\n`;
  assert.ok(verify(null, Buffer.from(body), signer.publicKey, cp.signature));
  const again = ledger.checkpoint(1_767_225_700_000);
  assert.equal(again.created, false);
  assert.equal(again.signedAt, 1_767_225_600_000);
  // The signed note: body, blank line, "— name base64(4-byte key hash || signature)".
  const note = formatSignedNote(cp, signer.publicKey);
  assert.ok(note.startsWith(`${body}\n\u2014 daemoneye-ledger/v1/${signer.keyId.slice(0, 16)} `));
  const [parsed] = parseCheckpointNotes(note);
  assert.equal(parsed!.treeSize, 3);
  assert.ok(parsed!.signatures[0]!.signature.equals(cp.signature));
  const raw = Buffer.from(signer.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const keyHash = createHash('sha256').update(`daemoneye-ledger/v1/${signer.keyId.slice(0, 16)}\n`).update(Buffer.from([1])).update(raw).digest().subarray(0, 4);
  assert.ok(parsed!.signatures[0]!.keyHash.equals(keyHash));
});

test('a checkpoint over an empty ledger is the empty root; without a key there are no checkpoints', () => {
  const { db, ledger } = setup();
  assert.equal(ledger.checkpoint(1).rootHash.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const unsigned = new Ledger(db);
  unsigned.append('monitor', {});
  assert.throws(() => unsigned.checkpoint(), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_KEY'));
});

test('two writers (the agent and `audit checkpoint`) interleave without diverging', () => {
  const { db, ledger: agent } = setup();
  const cli = new Ledger(db, { signer });
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 7; i++) agent.append('monitor', { round, i });
    (round % 2 === 0 ? cli : agent).checkpoint(round);
  }
  assert.ok(agent.treeHead().rootHash.equals(tableRoot(db)));
  assert.ok(verifyLedger(db, signer.publicKey).ok);
});

test('the writer refuses to sign over entries changed since the last checkpoint, or over a gap', () => {
  const { db, ledger } = setup();
  for (let i = 0; i < 8; i++) ledger.append('monitor', { i });
  ledger.checkpoint(1);
  const forged = JSON.stringify({ kind: 'monitor', payload: { i: 99 }, recorded_at: 0, seq: 3 });
  db.prepare('UPDATE ledger_entries SET entry = ?, leaf_hash = ? WHERE seq = 3').run(forged, refLeafHash(Buffer.from(forged)));
  ledger.append('monitor', { i: 8 });
  // A fresh writer (as after a restart) recomputes the edge and notices.
  const restarted = new Ledger(db, { signer });
  assert.throws(() => restarted.checkpoint(2), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_TAMPERED') && /refusing to sign/.test(e.message));
  const gap = setup();
  for (let i = 0; i < 4; i++) gap.ledger.append('monitor', { i });
  gap.db.prepare('DELETE FROM ledger_entries WHERE seq = 2').run();
  assert.throws(() => gap.ledger.checkpoint(1), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_TAMPERED') && /entry 2 is missing/.test(e.message));
  assert.throws(() => ledgerInclusionProof(gap.db, 0, 4), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_TAMPERED') && /entry 2 is missing/.test(e.message));
  const short = setup();
  for (let i = 0; i < 4; i++) short.ledger.append('monitor', { i });
  short.db.prepare("UPDATE ledger_entries SET leaf_hash = x'00' WHERE seq = 1").run();
  assert.throws(() => ledgerConsistencyProof(short.db, 1, 4), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_TAMPERED') && /not 32 bytes/.test(e.message));
});

test('proofs stream leaf hashes in chunks: sizes around the chunk boundary agree with the independent reference', () => {
  const { db, ledger } = setup();
  db.transaction(() => {
    for (let i = 0; i < 8200; i++) ledger.append('monitor', { i }, i);
  })();
  const leaves = (db.prepare('SELECT entry FROM ledger_entries ORDER BY seq').pluck().all() as string[]).map((e) => refLeafHash(Buffer.from(e)));
  for (const [m, n] of [[4095, 4096], [4096, 4097], [4097, 8193], [1, 8200], [8191, 8200]] as const) {
    const root = refRoot(leaves.slice(0, n));
    assert.ok(refVerifyInclusion(m, n, leaves[m]!, ledgerInclusionProof(db, m, n).auditPath, root), `inclusion ${m}/${n}`);
    assert.ok(refVerifyConsistency(m, n, refRoot(leaves.slice(0, m)), root, ledgerConsistencyProof(db, m, n)), `consistency ${m}/${n}`);
  }
  assert.ok(ledger.checkpoint(1).rootHash.equals(refRoot(leaves)));
});

test("the ledger's own proofs, for every (m, n) up to 70, verify with the independent RFC 9162 verifier", () => {
  const { db, ledger } = setup();
  for (let i = 0; i < 70; i++) ledger.append(i % 3 === 0 ? 'alert' : 'monitor', { alert_id: i, alert_uuid: `uuid-${i}` }, 1000 + i);
  const entries = db.prepare('SELECT entry FROM ledger_entries ORDER BY seq').pluck().all() as string[];
  const leaves = entries.map((e) => refLeafHash(Buffer.from(e)));
  const roots = Array.from({ length: 71 }, (_, n) => refRoot(leaves.slice(0, n)));
  for (let n = 1; n <= 70; n++) {
    for (let m = 0; m < n; m++) {
      const p = ledgerInclusionProof(db, m, n);
      assert.equal(p.entry, entries[m]);
      assert.ok(refVerifyInclusion(m, n, refLeafHash(Buffer.from(p.entry)), p.auditPath, roots[n]!), `inclusion ${m} in ${n}`);
    }
    for (let m = 1; m <= n; m++) {
      assert.ok(refVerifyConsistency(m, n, roots[m]!, roots[n]!, ledgerConsistencyProof(db, m, n)), `consistency ${m} → ${n}`);
    }
  }
  assert.deepEqual(findAlertEntries(db, '9').map((e) => e.seq), [9]);
  assert.deepEqual(findAlertEntries(db, 'uuid-12').map((e) => e.seq), [12]);
  assert.deepEqual(findAlertEntries(db, '10'), [], 'entry 10 is not of kind alert');
  assert.throws(() => ledgerInclusionProof(db, 70, 70), (e: unknown) => isDaemonEyeError(e, 'DE_USAGE'));
  assert.throws(() => ledgerConsistencyProof(db, 3, 71), (e: unknown) => isDaemonEyeError(e, 'DE_USAGE'));
});
