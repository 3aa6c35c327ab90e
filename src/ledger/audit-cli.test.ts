// `daemoneye audit ...` end to end in a child process: the JSON it prints is checked with the
// independent RFC 9162 verifier and node:crypto alone, as an outside auditor would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStoreForWriting, storePath } from '../store/open-store.ts';
import { parseCheckpointNotes } from './checkpoint-note.ts';
import { Ledger } from './ledger.ts';
import { openLedgerKey } from './ledger-key.ts';
import { refLeafHash, refVerifyConsistency, refVerifyInclusion } from './testing/rfc6962-reference.ts';

const DRIVER = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'de-audit-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function audit(dataDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DAEMONEYE_')) env[k] = v;
  env['HOME'] = '/nonexistent-home';
  const r = spawnSync(process.execPath, [DRIVER, '--data-dir', dataDir, 'audit', ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A data dir as the agent leaves it: 1,200 entries, every 4th an alert, checkpoints at 500 and 1000. */
function dataDir(): string {
  const dir = mkdtempSync(join(work, 'data-'));
  const db = openStoreForWriting(storePath(dir));
  const ledger = new Ledger(db, { signer: openLedgerKey(dir).signer, checkpointEvery: 500 });
  db.transaction(() => {
    for (let i = 0; i < 1200; i++) {
      if (i % 4 === 0) ledger.append('alert', { alert_id: i / 4 + 1, alert_uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, rule_id: 'DE-LNX-0001' }, 1_700_000_000_000 + i);
      else ledger.append('rule_loaded', { rule_id: `R-${i}` }, 1_700_000_000_000 + i);
      ledger.checkpointIfDue(1_700_000_000_000 + i);
    }
  })();
  db.close();
  return dir;
}

let dir = '';
before(() => {
  dir = dataDir();
});

test('every audit command explains itself with examples', () => {
  for (const c of ['verify', 'proof', 'consistency', 'checkpoint', 'export']) {
    const r = audit(dir, c, '--help');
    assert.equal(r.status, 0, c);
    assert.match(r.stdout, /Usage: daemoneye audit/, c);
    assert.match(r.stdout, /Examples?:\n\s+daemoneye audit/, `${c} has examples`);
  }
});

test('checkpoint signs the remaining entries and prints the signed note; a second one reprints it', () => {
  const d = dataDir();
  const r = audit(d, 'checkpoint');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /signed a checkpoint at tree size 1200/);
  const [note] = parseCheckpointNotes(r.stdout);
  assert.equal(note!.treeSize, 1200);
  assert.match(r.stdout, /^daemoneye-ledger\/v1\/[0-9a-f]{16}\n1200\n[A-Za-z0-9+/]{43}=\n\d+\n\n\u2014 daemoneye-ledger\/v1\/[0-9a-f]{16} \S+\n$/);
  const again = audit(d, 'checkpoint');
  assert.match(again.stderr, /no entries since the checkpoint at tree size 1200/);
  assert.equal(again.stdout, r.stdout);
  assert.match(audit(join(work, 'nowhere'), 'checkpoint').stderr, /DE_STORE_MISSING/);
});

test('verify: exit 0 on an intact ledger; exit 5 with the first bad sequence number after tampering', () => {
  const d = dataDir();
  const ok = audit(d, 'verify');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /1200 entries, 2 checkpoints \(2 verified\)/);
  assert.match(ok.stdout, /200 newer entries not yet checkpointed/);
  assert.match(ok.stdout, /^OK/m);
  const json = JSON.parse(audit(d, 'verify', '--format', 'json').stdout) as { ok: boolean; verifiedSize: number };
  assert.deepEqual([json.ok, json.verifiedSize], [true, 1000]);
  const db = openStoreForWriting(storePath(d));
  db.prepare("UPDATE ledger_entries SET entry = replace(entry, 'R-777', 'R-778') WHERE seq = 777").run();
  db.close();
  const bad = audit(d, 'verify');
  assert.equal(bad.status, 5);
  assert.match(bad.stdout, /TAMPERED/);
  assert.match(bad.stderr, /error DE_LEDGER_TAMPERED: the audit ledger does not verify: first bad entry 777 \(edited\)/);
  // A pinned key that is not the store's: every checkpoint fails.
  const stranger = join(work, 'stranger.pub.pem');
  writeFileSync(stranger, openLedgerKey(mkdtempSync(join(work, 'k-'))).signer.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const wrongKey = audit(dataDir(), 'verify', '--public-key', stranger);
  assert.equal(wrongKey.status, 5);
  assert.match(wrongKey.stderr, /bad_signature/);
});

test('verify --checkpoints catches a tail removed with its checkpoints', () => {
  const d = dataDir();
  const notes = join(work, 'witness.notes');
  writeFileSync(notes, audit(d, 'export').stdout);
  const db = openStoreForWriting(storePath(d));
  db.prepare('DELETE FROM ledger_entries WHERE seq >= 900').run();
  db.prepare('DELETE FROM ledger_checkpoints WHERE tree_size > 500').run();
  db.close();
  assert.equal(audit(d, 'verify').status, 0);
  const r = audit(d, 'verify', '--checkpoints', notes);
  assert.equal(r.status, 5);
  assert.match(r.stderr, /first bad entry 900 \(deleted\)/);
});

test('proof ALERT_ID prints an inclusion proof that checks out with nothing but the RFCs and the public key', () => {
  const r = audit(dir, 'proof', '8');
  assert.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout) as {
    leaf_index: number; tree_size: number; entry: string; leaf_hash: string; audit_path: string[]; root_hash: string;
    checkpoint: string; signature: string; public_key: string; signed_note: string;
  };
  assert.equal(p.leaf_index, 28); // alert 8 is entry 28
  assert.equal(p.tree_size, 1000);
  assert.equal(JSON.parse(p.entry).payload.alert_id, 8);
  const leaf = refLeafHash(Buffer.from(p.entry, 'utf8'));
  assert.equal(leaf.toString('hex'), p.leaf_hash);
  const [, size, rootB64] = p.checkpoint.split('\n');
  assert.equal(Number(size), p.tree_size);
  const root = Buffer.from(rootB64!, 'base64');
  assert.equal(root.toString('hex'), p.root_hash);
  assert.ok(refVerifyInclusion(p.leaf_index, p.tree_size, leaf, p.audit_path.map((h) => Buffer.from(h, 'hex')), root));
  assert.ok(verify(null, Buffer.from(p.checkpoint, 'utf8'), createPublicKey(p.public_key), Buffer.from(p.signature, 'base64')));
  assert.ok(p.signed_note.startsWith(p.checkpoint + '\n\u2014 '));
  // By uuid, against an older checkpoint.
  const byUuid = JSON.parse(audit(dir, 'proof', '00000000-0000-4000-8000-000000000028', '--tree-size', '500').stdout) as { leaf_index: number; tree_size: number };
  assert.deepEqual([byUuid.leaf_index, byUuid.tree_size], [28, 500]);
  // Not yet checkpointed, unknown, not checkpointed size: usage errors that say what to do.
  const late = audit(dir, 'proof', '260'); // entry 1036, after the last checkpoint
  assert.equal(late.status, 2);
  assert.match(late.stderr, /not covered by the checkpoint at tree size 1000 yet[\s\S]*audit checkpoint/);
  assert.match(audit(dir, 'proof', '99999').stderr, /DE_USAGE: no ledger entry records alert 99999/);
  assert.match(audit(dir, 'proof', '8', '--tree-size', '700').stderr, /no checkpoint at tree size 700/);
});

test('consistency OLD NEW prints a proof the independent verifier accepts between the signed roots', () => {
  const r = audit(dir, 'consistency', '500', '1000');
  assert.equal(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout) as { old_size: number; new_size: number; old_root: string; new_root: string; proof: string[];
    old_checkpoint: { checkpoint: string; signature: string }; new_checkpoint: { checkpoint: string; signature: string }; public_key: string };
  const key = createPublicKey(c.public_key);
  for (const cp of [c.old_checkpoint, c.new_checkpoint]) assert.ok(verify(null, Buffer.from(cp.checkpoint), key, Buffer.from(cp.signature, 'base64')));
  const oldRoot = Buffer.from(c.old_checkpoint.checkpoint.split('\n')[2]!, 'base64');
  const newRoot = Buffer.from(c.new_checkpoint.checkpoint.split('\n')[2]!, 'base64');
  assert.equal(oldRoot.toString('hex'), c.old_root);
  assert.ok(refVerifyConsistency(500, 1000, oldRoot, newRoot, c.proof.map((h) => Buffer.from(h, 'hex'))));
  const notSigned = audit(dir, 'consistency', '400', '1000');
  assert.equal(notSigned.status, 2);
  assert.match(notSigned.stderr, /no checkpoint at tree size 400[\s\S]*checkpointed sizes: 500, 1000/);
});

test('export prints every checkpoint as a signed note, or as JSON', () => {
  const text = audit(dir, 'export');
  assert.equal(text.status, 0, text.stderr);
  assert.deepEqual(parseCheckpointNotes(text.stdout).map((n) => n.treeSize), [500, 1000]);
  assert.deepEqual(parseCheckpointNotes(audit(dir, 'export', '--latest').stdout).map((n) => n.treeSize), [1000]);
  const json = JSON.parse(audit(dir, 'export', '--format', 'json').stdout) as { tree_size: number; verifier_key: string }[];
  assert.deepEqual(json.map((j) => j.tree_size), [500, 1000]);
  assert.match(json[0]!.verifier_key, /^daemoneye-ledger\/v1\/[0-9a-f]{16}\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
});

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

test('docs/ledger.md: the Python script and openssl steps verify real proofs and notes, and reject a forged one',
  { skip: has('python3') && has('openssl') ? false : 'needs python3 and openssl' }, () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/ledger.md', import.meta.url)), 'utf8');
    const block = /\n( *)```python\n([\s\S]*?)\n\1```/.exec(doc);
    assert.ok(block, 'docs/ledger.md has a python block');
    const script = block[2]!.split('\n').map((l) => l.slice(block[1]!.length)).join('\n');
    const cwd = mkdtempSync(join(work, 'py-'));
    writeFileSync(join(cwd, 'verify_proof.py'), script);
    const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { cwd, encoding: 'utf8' });
    const openssl = (name: string) => sh(`openssl pkeyutl -verify -pubin -inkey ledger-key.pub.pem -rawin -in ${name}.txt -sigfile ${name}.sig`);

    writeFileSync(join(cwd, 'proof.json'), audit(dir, 'proof', '8').stdout);
    const inclusion = sh('python3 verify_proof.py proof.json');
    assert.equal(inclusion.status, 0, inclusion.stderr + inclusion.stdout);
    assert.match(inclusion.stdout, /entry 28 is in the signed tree of 1000: yes/);
    assert.match(openssl('checkpoint').stdout, /Signature Verified Successfully/);

    writeFileSync(join(cwd, 'consistency.json'), audit(dir, 'consistency', '500', '1000').stdout);
    const consistency = sh('python3 verify_proof.py consistency.json');
    assert.equal(consistency.status, 0, consistency.stderr + consistency.stdout);
    for (const name of ['old-checkpoint', 'new-checkpoint']) assert.match(openssl(name).stdout, /Signature Verified Successfully/);

    const forged = JSON.parse(readFileSync(join(cwd, 'proof.json'), 'utf8')) as { entry: string };
    forged.entry = forged.entry.replace('DE-LNX-0001', 'DE-LNX-0002');
    writeFileSync(join(cwd, 'forged.json'), JSON.stringify(forged));
    const rejected = sh('python3 verify_proof.py forged.json');
    assert.equal(rejected.status, 1, 'a changed entry fails');
    assert.match(rejected.stdout, /in the signed tree of 1000: NO/);
    writeFileSync(join(cwd, 'checkpoint.txt'), readFileSync(join(cwd, 'checkpoint.txt'), 'utf8').replace('\n1000\n', '\n1001\n'));
    assert.notEqual(openssl('checkpoint').status, 0, 'a changed checkpoint fails');

    writeFileSync(join(cwd, 'latest.note'), audit(dir, 'export', '--latest').stdout);
    const note = sh(`head -n 4 latest.note > checkpoint.txt && tail -n 1 latest.note | cut -d' ' -f3 | base64 -d | tail -c 64 > checkpoint.sig`);
    assert.equal(note.status, 0, note.stderr);
    assert.match(openssl('checkpoint').stdout, /Signature Verified Successfully/);
  });
