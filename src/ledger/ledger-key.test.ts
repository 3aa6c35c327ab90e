import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import {
  LEDGER_KEY_FILE, LEDGER_PUBLIC_KEY_FILE, keyIdOf, openLedgerKey, publicKeyFromPem, readLedgerPublicKey, verifySignature,
} from './ledger-key.ts';

const work = mkdtempSync(join(tmpdir(), 'de-ledger-key-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => mkdtempSync(join(work, `d${n++}-`));

test('the first open generates an Ed25519 key, mode 0600, PKCS#8 PEM, with its SPKI public key beside it', () => {
  const dir = freshDir();
  const opened = openLedgerKey(dir);
  assert.equal(opened.created, true);
  assert.deepEqual(opened.notes, []);
  const keyPath = join(dir, LEDGER_KEY_FILE);
  assert.equal(statSync(keyPath).mode & 0o777, 0o600);
  const pem = readFileSync(keyPath, 'utf8');
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  const pub = readFileSync(join(dir, LEDGER_PUBLIC_KEY_FILE), 'utf8');
  assert.match(pub, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal(statSync(join(dir, LEDGER_PUBLIC_KEY_FILE)).mode & 0o022, 0, 'the public key is not writable by others');
  // key_id = hex SHA-256 of the SPKI DER.
  const spki = createPublicKey(pub).export({ type: 'spki', format: 'der' });
  assert.equal(opened.signer.keyId, createHash('sha256').update(spki).digest('hex'));
  assert.equal(keyIdOf(readLedgerPublicKey(dir)), opened.signer.keyId);
  const sig = opened.signer.sign('hello\n');
  assert.equal(sig.length, 64);
  assert.ok(verifySignature(publicKeyFromPem(pub), 'hello\n', sig));
  assert.ok(!verifySignature(publicKeyFromPem(pub), 'hello!\n', sig));
});

test('later opens load the same key; a missing or stale public key file is rewritten, with a note when stale', () => {
  const dir = freshDir();
  const first = openLedgerKey(dir);
  const again = openLedgerKey(dir);
  assert.equal(again.created, false);
  assert.equal(again.signer.keyId, first.signer.keyId);
  rmSync(join(dir, LEDGER_PUBLIC_KEY_FILE));
  assert.deepEqual(openLedgerKey(dir).notes, []);
  assert.equal(keyIdOf(readLedgerPublicKey(dir)), first.signer.keyId);
  const other = openLedgerKey(freshDir());
  writeFileSync(join(dir, LEDGER_PUBLIC_KEY_FILE), other.signer.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const opened = openLedgerKey(dir);
  assert.match(opened.notes.join('\n'), /did not match/);
  assert.equal(keyIdOf(readLedgerPublicKey(dir)), first.signer.keyId);
});

test('a key readable by others is used with a warning; a key writable by others is refused', () => {
  const dir = freshDir();
  openLedgerKey(dir);
  const keyPath = join(dir, LEDGER_KEY_FILE);
  chmodSync(keyPath, 0o644);
  const loose = openLedgerKey(dir);
  assert.match(loose.notes.join('\n'), /readable by group or others \(mode 644\).*chmod 600/);
  chmodSync(keyPath, 0o620);
  assert.throws(() => openLedgerKey(dir), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_KEY') && /writable by group or others/.test(e.message));
  chmodSync(keyPath, 0o600);
  assert.deepEqual(openLedgerKey(dir).notes, []);
});

test('a damaged or foreign key file is DE_LEDGER_KEY, never a silent new key', () => {
  const dir = freshDir();
  writeFileSync(join(dir, LEDGER_KEY_FILE), 'not a key', { mode: 0o600 });
  assert.throws(() => openLedgerKey(dir), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_KEY') && /not a PEM private key/.test(e.message));
  assert.equal(readFileSync(join(dir, LEDGER_KEY_FILE), 'utf8'), 'not a key');
  assert.throws(() => readLedgerPublicKey(freshDir()), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_KEY'));
  assert.throws(() => publicKeyFromPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), (e: unknown) => isDaemonEyeError(e, 'DE_LEDGER_KEY'));
});
