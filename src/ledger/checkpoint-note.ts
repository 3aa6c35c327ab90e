// The text a checkpoint signs, and its export as a signed note. The body is a C2SP tlog-checkpoint
// (origin, tree size, base64 root, then one extension line with the signing time) and the export is a
// C2SP signed note, so existing transparency-log tooling (Go's golang.org/x/mod/sumdb/note, the
// transparency-dev verifiers) can check our checkpoints, and so can 20 lines of Python
// (docs/ledger.md). Every field of the body is a column of ledger_checkpoints: the text is rebuilt
// from the row, never stored, so it cannot drift from what verify checks.
import { createHash, type KeyObject } from 'node:crypto';
import { rawPublicKey } from './ledger-key.ts';

/** A signed tree head, as stored in ledger_checkpoints. */
export interface Checkpoint {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  /** Milliseconds since the Unix epoch. */
  readonly signedAt: number;
  /** Hex SHA-256 of the signing key's SPKI DER. */
  readonly keyId: string;
  /** Raw 64-byte Ed25519 signature over checkpointBody(). */
  readonly signature: Buffer;
}

export type CheckpointHead = Omit<Checkpoint, 'signature'>;

export const ORIGIN_PREFIX = 'daemoneye-ledger/v1/';
/** Hex digits of the key id that name the log in the origin line. */
const ORIGIN_KEY_DIGITS = 16;

/**
 * The log's name: fixed per signing key, so it can be rebuilt from the key_id column and never
 * depends on a hostname that may change. Also the signer's key name in the note's signature line.
 */
export function checkpointOrigin(keyId: string): string {
  return ORIGIN_PREFIX + keyId.slice(0, ORIGIN_KEY_DIGITS);
}

/** The exact UTF-8 text that is signed: four lines, each ending in "\n". */
export function checkpointBody(head: CheckpointHead): string {
  return `${checkpointOrigin(head.keyId)}\n${head.treeSize}\n${head.rootHash.toString('base64')}\n${head.signedAt}\n`;
}

const ED25519_TYPE = 0x01;

/** C2SP signed-note key id: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]. */
export function noteKeyHash(name: string, publicKey: KeyObject): Buffer {
  return createHash('sha256').update(`${name}\n`).update(Buffer.from([ED25519_TYPE])).update(rawPublicKey(publicKey)).digest().subarray(0, 4);
}

/** The verifier key string Go's note.NewVerifier accepts: name+hex(key hash)+base64(0x01 || key). */
export function noteVerifierKey(keyId: string, publicKey: KeyObject): string {
  const name = checkpointOrigin(keyId);
  const key = Buffer.concat([Buffer.from([ED25519_TYPE]), rawPublicKey(publicKey)]);
  return `${name}+${noteKeyHash(name, publicKey).toString('hex')}+${key.toString('base64')}`;
}

/** The checkpoint as a C2SP signed note: body, blank line, "— name base64(key hash || signature)". */
export function formatSignedNote(cp: Checkpoint, publicKey: KeyObject): string {
  const name = checkpointOrigin(cp.keyId);
  const sig = Buffer.concat([noteKeyHash(name, publicKey), cp.signature]).toString('base64');
  return `${checkpointBody(cp)}\n\u2014 ${name} ${sig}\n`;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyHash: Buffer;
  readonly signature: Buffer;
}

/** A checkpoint read back from exported text; the signature is not verified here. */
export interface ParsedCheckpointNote {
  readonly body: string;
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly signedAt: number;
  readonly signatures: readonly NoteSignature[];
}

/**
 * Parses one or more signed notes as `daemoneye audit export` writes them (notes separated by a blank
 * line). Throws on anything malformed: a witness file is evidence, and guessing would hide damage.
 */
export function parseCheckpointNotes(text: string): ParsedCheckpointNote[] {
  const lines = text.split('\n');
  const out: ParsedCheckpointNote[] = [];
  let i = 0;
  const skipBlank = () => {
    while (i < lines.length && lines[i] === '') i++;
  };
  skipBlank();
  while (i < lines.length) {
    const start = i + 1;
    const body: string[] = [];
    while (i < lines.length && lines[i] !== '') body.push(lines[i++]!);
    if (lines[i] !== '') throw new SyntaxError(`note at line ${start}: no blank line before its signatures`);
    i++;
    const signatures: NoteSignature[] = [];
    while (i < lines.length && lines[i]!.startsWith('\u2014 ')) {
      const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(lines[i]!);
      const raw = m ? Buffer.from(m[2]!, 'base64') : Buffer.alloc(0);
      if (!m || raw.length < 5) throw new SyntaxError(`line ${i + 1}: malformed signature line`);
      signatures.push({ name: m[1]!, keyHash: raw.subarray(0, 4), signature: raw.subarray(4) });
      i++;
    }
    if (signatures.length === 0) throw new SyntaxError(`note at line ${start}: no signature lines`);
    const [origin, size, root, signedAt] = body;
    if (body.length !== 4 || origin === undefined || !/^(0|[1-9][0-9]*)$/.test(size ?? '') || !/^[0-9]+$/.test(signedAt ?? '')) {
      throw new SyntaxError(`note at line ${start}: not a daemoneye checkpoint (origin, tree size, root, timestamp)`);
    }
    const rootHash = Buffer.from(root ?? '', 'base64');
    if (rootHash.length !== 32 || rootHash.toString('base64') !== root) throw new SyntaxError(`note at line ${start}: the root is not a base64 SHA-256 hash`);
    out.push({ body: body.join('\n') + '\n', origin, treeSize: Number(size), rootHash, signedAt: Number(signedAt), signatures });
    skipBlank();
  }
  return out;
}
