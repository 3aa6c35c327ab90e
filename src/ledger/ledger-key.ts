// The Ed25519 key that signs ledger checkpoints. Generated on first use in the data directory as
// ledger-key.pem (PKCS#8, mode 0600) with its public half beside it (ledger-key.pub.pem, SPKI), so an
// operator can hand the public key to whoever verifies. The key id is the hex SHA-256 of the SPKI DER.
//
// Permissions policy (docs/ledger.md): a key file others can WRITE is refused (DE_LEDGER_KEY): anyone
// could swap in their own key and sign whatever they like. A key others can only READ is used, with a
// note returned to the caller to log at warn level: the agent keeps recording (stopping the audit
// trail would help an attacker more), but checkpoints signed with a possibly copied key prove less.
import {
  createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject,
} from 'node:crypto';
import {
  closeSync, fstatSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { DaemonEyeError } from '../errors/catalogue.ts';

export const LEDGER_KEY_FILE = 'ledger-key.pem';
export const LEDGER_PUBLIC_KEY_FILE = 'ledger-key.pub.pem';

/** What checkpoints need from a key: its id, its public half, and a way to sign. */
export interface LedgerSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(message: string): Buffer;
}

export interface OpenedLedgerKey {
  readonly signer: LedgerSigner;
  /** True when this call generated the key. */
  readonly created: boolean;
  readonly keyPath: string;
  readonly publicKeyPath: string;
  /** Warn-level notes for the log (loose permissions, a stale public key file). */
  readonly notes: readonly string[];
}

/** Hex SHA-256 of the public key's SPKI DER encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** The 32-byte RFC 8032 encoding of an Ed25519 public key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const x = publicKey.export({ format: 'jwk' }).x;
  if (x === undefined) throw new DaemonEyeError('DE_LEDGER_KEY', 'not an Ed25519 public key');
  return Buffer.from(x, 'base64url');
}

export function signerFromPrivateKey(privateKey: KeyObject): LedgerSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new DaemonEyeError('DE_LEDGER_KEY', `the ledger key must be Ed25519, not ${privateKey.asymmetricKeyType ?? 'a secret key'}`);
  }
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), publicKey, sign: (message) => sign(null, Buffer.from(message, 'utf8'), privateKey) };
}

/** A key that lives only in memory: tests and benchmarks. */
export function ephemeralSigner(): LedgerSigner {
  return signerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
}

/** Ed25519 verification of `message` (UTF-8) against a raw 64-byte signature. */
export function verifySignature(publicKey: KeyObject, message: string, signature: Uint8Array): boolean {
  try {
    return verify(null, Buffer.from(message, 'utf8'), publicKey, signature);
  } catch {
    return false; // a malformed signature is simply not valid
  }
}

/** Parses a PEM public key (SPKI) or private key (its public half); only Ed25519 is accepted. */
export function publicKeyFromPem(pem: string, source = 'the key'): KeyObject {
  let key: KeyObject;
  try {
    key = /PRIVATE KEY/.test(pem) ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  } catch (cause) {
    throw new DaemonEyeError('DE_LEDGER_KEY', `${source} is not a PEM public key`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new DaemonEyeError('DE_LEDGER_KEY', `${source} is ${key.asymmetricKeyType ?? 'a secret key'}, not Ed25519`);
  return key;
}

export function readPublicKeyFile(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new DaemonEyeError('DE_LEDGER_KEY', `cannot read the ledger public key ${path}`, { cause });
  }
  return publicKeyFromPem(pem, path);
}

/**
 * The public key for verifying this data directory's ledger: ledger-key.pub.pem, or the public half of
 * ledger-key.pem when only that exists. Pin the key elsewhere too: whoever can rewrite the data
 * directory can also replace both files (docs/ledger.md, "What verify proves").
 */
export function readLedgerPublicKey(dataDir: string): KeyObject {
  const pub = join(dataDir, LEDGER_PUBLIC_KEY_FILE);
  if (exists(pub)) return readPublicKeyFile(pub);
  const priv = join(dataDir, LEDGER_KEY_FILE);
  if (exists(priv)) return readPublicKeyFile(priv);
  throw new DaemonEyeError('DE_LEDGER_KEY', `no ledger key in ${dataDir} (${LEDGER_PUBLIC_KEY_FILE})`, {
    hint: 'pass --public-key FILE, or run the agent once so it creates DATA_DIR/ledger-key.pem',
  });
}

/** Loads the signing key from `dataDir`, generating it (0600) if there is none yet. */
export function openLedgerKey(dataDir: string): OpenedLedgerKey {
  const keyPath = join(dataDir, LEDGER_KEY_FILE);
  const publicKeyPath = join(dataDir, LEDGER_PUBLIC_KEY_FILE);
  const notes: string[] = [];
  let created = false;
  if (!exists(keyPath)) created = createKeyFile(keyPath);
  const privateKey = readPrivateKey(keyPath, notes);
  const signer = signerFromPrivateKey(privateKey);
  const pem = signer.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  let existing: string | null = null;
  try {
    existing = readFileSync(publicKeyPath, 'utf8');
  } catch {
    /* missing: written below */
  }
  if (existing !== pem) {
    if (existing !== null) notes.push(`${publicKeyPath} did not match ${keyPath}; rewrote it from the private key`);
    writeAtomically(publicKeyPath, pem, 0o644);
  }
  return { signer, created, keyPath, publicKeyPath, notes };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function readPrivateKey(keyPath: string, notes: string[]): KeyObject {
  let fd: number;
  try {
    fd = openSync(keyPath, 'r');
  } catch (cause) {
    throw new DaemonEyeError('DE_LEDGER_KEY', `cannot open ${keyPath}`, { cause });
  }
  try {
    // fstat on the descriptor we read: the mode we judge is the mode of the file we use.
    const mode = fstatSync(fd).mode & 0o777;
    if (mode & 0o022) {
      throw new DaemonEyeError('DE_LEDGER_KEY', `${keyPath} is writable by group or others (mode ${mode.toString(8)})`, {
        hint: `anyone could replace the signing key: \`chmod 600 ${keyPath}\`, check who changed it, and run \`daemoneye audit verify\``,
      });
    }
    if (mode & 0o044) {
      notes.push(`${keyPath} is readable by group or others (mode ${mode.toString(8)}): run \`chmod 600 ${keyPath}\`; ` +
        'whoever read it can sign checkpoints, so consider a new key (docs/ledger.md)');
    }
    const pem = readFileSync(fd, 'utf8');
    try {
      return createPrivateKey(pem);
    } catch (cause) {
      throw new DaemonEyeError('DE_LEDGER_KEY', `${keyPath} is not a PEM private key`, { cause });
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a new key to a private temporary file and hard-links it into place: the key file appears
 * whole or not at all, and if two processes race, link() lets exactly one win and the other reads it.
 */
function createKeyFile(keyPath: string): boolean {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const tmp = `${keyPath}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, keyPath);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } catch (cause) {
    throw new DaemonEyeError('DE_LEDGER_KEY', `cannot create ${keyPath}`, { cause });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
  }
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (cause) {
    throw new DaemonEyeError('DE_LEDGER_KEY', `cannot write ${path}`, { cause });
  }
}
