// `daemoneye audit verify|proof|consistency|checkpoint|export`: the tamper-evident audit ledger
// (docs/ledger.md). Proofs print as JSON that can be checked without DaemonEye: hashes are hex, the
// checkpoint is a C2SP signed note whose root line is base64, the public key is PEM.
import type { Command } from 'commander';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { checkpointBody, formatSignedNote, noteVerifierKey, parseCheckpointNotes, type Checkpoint, type ParsedCheckpointNote } from '../../ledger/checkpoint-note.ts';
import { Ledger } from '../../ledger/ledger.ts';
import { keyIdOf, openLedgerKey, readLedgerPublicKey, readPublicKeyFile, verifySignature } from '../../ledger/ledger-key.ts';
import { findAlertEntries, ledgerConsistencyProof, ledgerInclusionProof } from '../../ledger/ledger-proofs.ts';
import { latestCheckpoint, readCheckpoint, readCheckpoints } from '../../ledger/ledger-table.ts';
import { hashLeaf, verifyConsistency, verifyInclusion } from '../../ledger/merkle.ts';
import { verifyLedger, type LedgerProblem, type LedgerVerifyReport } from '../../ledger/verify-ledger.ts';
import { openStoreForWriting, openStoreReadOnly, storePath, type Db } from '../../store/open-store.ts';
import { buildContext, type GlobalOptions } from '../context.ts';

type TextOrJson = 'text' | 'json';

function textOrJson(v: string | undefined): TextOrJson {
  if (v === undefined || v === 'text' || v === 'table') return 'text';
  if (v === 'json') return 'json';
  throw new DaemonEyeError('DE_USAGE', `--format must be text or json here, not "${v}"`);
}

function publicKeyFor(dataDir: string, file: string | undefined): KeyObject {
  return file === undefined ? readLedgerPublicKey(dataDir) : readPublicKeyFile(file);
}

function withReadOnlyStore<T>(dataDir: string, fn: (db: Db) => T): T {
  const db = openStoreReadOnly(storePath(dataDir));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function treeSizeArg(v: string, what: string): number {
  if (!/^[0-9]+$/.test(v)) throw new DaemonEyeError('DE_USAGE', `${what} must be a tree size (a whole number), not "${v}"`);
  return Number(v);
}

/** The key that signed `cp`; a proof printed with any other key would not verify. */
function keyForCheckpoint(cp: Checkpoint, key: KeyObject): KeyObject {
  const id = keyIdOf(key);
  if (id !== cp.keyId) {
    throw new DaemonEyeError('DE_LEDGER_KEY', `checkpoint ${cp.treeSize} was signed by key ${cp.keyId.slice(0, 16)}…, not ${id.slice(0, 16)}…`, {
      hint: 'pass the signing key with --public-key FILE',
    });
  }
  if (!verifySignature(key, checkpointBody(cp), cp.signature)) {
    throw new DaemonEyeError('DE_LEDGER_TAMPERED', `the checkpoint at tree size ${cp.treeSize} does not verify`, {
      hint: 'keep the store as evidence; `daemoneye audit verify` lists every problem',
    });
  }
  return key;
}

function checkpointJson(cp: Checkpoint, key: KeyObject): Record<string, unknown> {
  return {
    tree_size: cp.treeSize, root_hash: cp.rootHash.toString('hex'), signed_at: cp.signedAt, signed_at_iso: new Date(cp.signedAt).toISOString(),
    key_id: cp.keyId, checkpoint: checkpointBody(cp), signature: cp.signature.toString('base64'), signed_note: formatSignedNote(cp, key),
  };
}

function keyJson(key: KeyObject): Record<string, unknown> {
  const keyId = keyIdOf(key);
  return { key_id: keyId, public_key: key.export({ type: 'spki', format: 'pem' }), verifier_key: noteVerifierKey(keyId, key) };
}

const problemLine = (p: LedgerProblem): string =>
  `  entry ${p.seq}: ${p.kind}${p.treeSize === undefined ? '' : ` (checkpoint ${p.treeSize})`}: ${p.message}`;

function verifyText(r: LedgerVerifyReport, keyId: string): string {
  const lines = [
    `audit ledger: ${r.entries} entries, ${r.checkpoints} checkpoints (${r.checkpointsVerified} verified)`,
    `signed up to tree size ${r.verifiedSize}; ${r.unsigned} newer entries not yet checkpointed`,
    `recomputed root: ${r.rootHash.toString('hex')}`,
    `key: ${keyId}`,
    `checked in ${r.seconds.toFixed(2)} s (${Math.round(r.entries / Math.max(r.seconds, 1e-9))} entries/s)`,
  ];
  if (r.ok) lines.push('OK: every entry and checkpoint verifies');
  else {
    lines.push(`TAMPERED: ${r.problems.length}${r.truncated ? '+' : ''} problem(s); the first bad sequence number is ${r.first!.seq}`);
    lines.push(...r.problems.map(problemLine));
  }
  return lines.join('\n') + '\n';
}

function verifyJson(r: LedgerVerifyReport, keyId: string): string {
  return JSON.stringify({ ...r, rootHash: r.rootHash.toString('hex'), keyId }, null, 2) + '\n';
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit ledger: verify it, prove entries, sign and export checkpoints');

  audit
    .command('verify')
    .description('recompute every entry and the Merkle tree, check every checkpoint signature; exit 5 naming the first bad entry')
    .option('--public-key <file>', 'PEM public key to verify with (default: DATA_DIR/ledger-key.pub.pem; pin a copy kept elsewhere)')
    .option('--checkpoints <file>', 'checkpoints exported earlier with `audit export`: also catches entries removed with their checkpoints')
    .option('-f, --format <format>', 'text | json')
    .addHelpText('after', `
Examples:
  daemoneye audit verify
  daemoneye audit verify --public-key /etc/daemoneye/ledger-key.pub.pem --checkpoints /srv/witness/host-a.notes
  daemoneye audit verify --format json | jq .first

Exit status: 0 when everything verifies, 5 (DE_LEDGER_TAMPERED) with the first bad sequence number otherwise.`)
    .action((opts: { publicKey?: string; checkpoints?: string; format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = textOrJson(opts.format ?? global.format);
      const ctx = buildContext(global);
      const key = publicKeyFor(ctx.dataDir, opts.publicKey);
      let witnessed: ParsedCheckpointNote[] | undefined;
      if (opts.checkpoints !== undefined) {
        try {
          witnessed = parseCheckpointNotes(readFileSync(opts.checkpoints, 'utf8'));
        } catch (cause) {
          throw new DaemonEyeError('DE_USAGE', `cannot read checkpoints from ${opts.checkpoints}: ${(cause as Error).message}`, { cause });
        }
      }
      const report = withReadOnlyStore(ctx.dataDir, (db) => verifyLedger(db, key, witnessed === undefined ? {} : { witnessed }));
      const keyId = keyIdOf(key);
      process.stdout.write(format === 'json' ? verifyJson(report, keyId) : verifyText(report, keyId));
      if (!report.ok) {
        const p = report.first!;
        throw new DaemonEyeError('DE_LEDGER_TAMPERED', `the audit ledger does not verify: first bad entry ${p.seq} (${p.kind}): ${p.message}`);
      }
    });

  audit
    .command('proof')
    .description("an RFC 6962 inclusion proof that an alert's ledger entry is in the latest signed checkpoint, as JSON")
    .argument('<alert>', 'alert id or uuid (from `daemoneye alerts list`)')
    .option('--tree-size <n>', 'prove against this checkpointed tree size instead of the latest')
    .option('--public-key <file>', 'PEM public key of the signing key (default: DATA_DIR/ledger-key.pub.pem)')
    .addHelpText('after', `
Examples:
  daemoneye audit proof 12 > alert-12.proof.json
  daemoneye audit proof 3f1c2a9e-5b7d-4e11-9a0c-2d4f6b8e1a57 --tree-size 4000

The JSON holds the entry, its leaf hash, the audit path (hex, nearest the leaf first), the signed
checkpoint and the public key; docs/ledger.md shows how to check it with Python and openssl.`)
    .action((alert: string, opts: { treeSize?: string; publicKey?: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const key = publicKeyFor(ctx.dataDir, opts.publicKey);
      const out = withReadOnlyStore(ctx.dataDir, (db) => {
        const entries = findAlertEntries(db, alert);
        if (entries.length === 0) {
          throw new DaemonEyeError('DE_USAGE', `no ledger entry records alert ${alert}`, { hint: 'list alerts with `daemoneye alerts list`' });
        }
        const seq = entries[0]!.seq;
        const cp = opts.treeSize === undefined ? latestCheckpoint(db) : readCheckpoint(db, treeSizeArg(opts.treeSize, '--tree-size'));
        if (cp === null && opts.treeSize !== undefined) throw new DaemonEyeError('DE_USAGE', `there is no checkpoint at tree size ${opts.treeSize}`);
        if (cp === null || cp.treeSize <= seq) {
          throw new DaemonEyeError('DE_USAGE', `ledger entry ${seq} is not covered by ${cp === null ? 'any checkpoint' : `the checkpoint at tree size ${cp.treeSize}`} yet`, {
            hint: 'the agent checkpoints every 1000 entries or 60 s; `daemoneye audit checkpoint` signs one now',
          });
        }
        keyForCheckpoint(cp, key);
        const proof = ledgerInclusionProof(db, seq, cp.treeSize);
        // Never print a proof that does not verify: it would only mislead whoever checks it.
        if (!verifyInclusion(seq, cp.treeSize, hashLeaf(proof.entry), proof.auditPath, cp.rootHash)) {
          throw new DaemonEyeError('DE_LEDGER_TAMPERED', `ledger entry ${seq} or its neighbours no longer match the checkpoint at tree size ${cp.treeSize}`);
        }
        return {
          format: 'daemoneye-ledger-inclusion-proof/v1', alert, leaf_index: seq, tree_size: cp.treeSize, entry: proof.entry,
          leaf_hash: hashLeaf(proof.entry).toString('hex'), audit_path: proof.auditPath.map((h) => h.toString('hex')),
          root_hash: cp.rootHash.toString('hex'), ...checkpointJson(cp, key), ...keyJson(key),
          ...(entries.length > 1 ? { other_entries: entries.slice(1).map((e) => e.seq) } : {}),
        };
      });
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });

  audit
    .command('consistency')
    .description('an RFC 6962 consistency proof that checkpoint OLD is a prefix of checkpoint NEW, as JSON')
    .argument('<old>', 'an earlier checkpointed tree size')
    .argument('<new>', 'a later checkpointed tree size')
    .option('--public-key <file>', 'PEM public key of the signing key (default: DATA_DIR/ledger-key.pub.pem)')
    .addHelpText('after', `
Examples:
  daemoneye audit export --format json | jq '.[].tree_size'     # the checkpointed sizes
  daemoneye audit consistency 1000 5000 > consistency-1000-5000.json`)
    .action((oldArg: string, newArg: string, opts: { publicKey?: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const key = publicKeyFor(ctx.dataDir, opts.publicKey);
      const m = treeSizeArg(oldArg, 'OLD');
      const n = treeSizeArg(newArg, 'NEW');
      const out = withReadOnlyStore(ctx.dataDir, (db) => {
        const [oldCp, newCp] = [m, n].map((size) => {
          const cp = readCheckpoint(db, size);
          if (cp === null) {
            const sizes = readCheckpoints(db).map((c) => c.treeSize);
            throw new DaemonEyeError('DE_USAGE', `there is no checkpoint at tree size ${size}`, {
              hint: sizes.length === 0 ? 'there are no checkpoints yet: `daemoneye audit checkpoint`' : `checkpointed sizes: ${abbreviate(sizes)}`,
            });
          }
          keyForCheckpoint(cp, key);
          return cp;
        }) as [Checkpoint, Checkpoint];
        const proof = ledgerConsistencyProof(db, m, n);
        if (!verifyConsistency(m, n, oldCp.rootHash, newCp.rootHash, proof)) {
          throw new DaemonEyeError('DE_LEDGER_TAMPERED', `the stored entries do not prove checkpoint ${m} consistent with checkpoint ${n}`);
        }
        return {
          format: 'daemoneye-ledger-consistency-proof/v1', old_size: m, new_size: n, old_root: oldCp.rootHash.toString('hex'),
          new_root: newCp.rootHash.toString('hex'), proof: proof.map((h) => h.toString('hex')),
          old_checkpoint: checkpointJson(oldCp, key), new_checkpoint: checkpointJson(newCp, key), ...keyJson(key),
        };
      });
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });

  audit
    .command('checkpoint')
    .description('sign a checkpoint over every entry now (the agent does this every 1000 entries or 60 s) and print it')
    .addHelpText('after', `
Example:
  daemoneye audit checkpoint            # prints the signed note; creates DATA_DIR/ledger-key.pem if missing`)
    .action((_opts: unknown, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const path = storePath(ctx.dataDir);
      // Writing opens would create an empty store: a checkpoint over nothing is no use to anyone.
      if (!existsSync(path)) throw new DaemonEyeError('DE_STORE_MISSING', `no store at ${path}`);
      const key = openLedgerKey(ctx.dataDir);
      for (const note of key.notes) process.stderr.write(`warning: ${note}\n`);
      const db = openStoreForWriting(path);
      try {
        const cp = new Ledger(db, { signer: key.signer }).checkpoint();
        process.stderr.write(cp.created ? `signed a checkpoint at tree size ${cp.treeSize}\n`
          : `no entries since the checkpoint at tree size ${cp.treeSize}; here it is\n`);
        process.stdout.write(formatSignedNote(cp, key.signer.publicKey));
      } finally {
        db.close();
      }
    });

  audit
    .command('export')
    .description('print the signed checkpoints as C2SP signed notes, for a witness to keep outside this host')
    .option('--latest', 'only the latest checkpoint')
    .option('--public-key <file>', 'PEM public key of the signing key (default: DATA_DIR/ledger-key.pub.pem)')
    .option('-f, --format <format>', 'text (signed notes, one blank line apart) | json')
    .addHelpText('after', `
Examples:
  daemoneye audit export > host-a.notes
  daemoneye audit export --latest | ssh witness 'cat >> /srv/witness/host-a.notes'
  daemoneye audit verify --checkpoints host-a.notes     # later: nothing signed has been removed`)
    .action((opts: { latest?: boolean; publicKey?: string; format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = textOrJson(opts.format ?? global.format);
      const ctx = buildContext(global);
      const key = publicKeyFor(ctx.dataDir, opts.publicKey);
      const keyId = keyIdOf(key);
      const all = withReadOnlyStore(ctx.dataDir, (db) => readCheckpoints(db));
      const chosen = opts.latest ? all.slice(-1) : all;
      // A note's signature line names the signing key, so only checkpoints by this key can be written.
      const mine = chosen.filter((c) => c.keyId === keyId);
      if (mine.length < chosen.length) {
        process.stderr.write(`warning: skipped ${chosen.length - mine.length} checkpoint(s) signed by another key; pass it with --public-key\n`);
      }
      if (format === 'json') {
        process.stdout.write(JSON.stringify(mine.map((c) => ({ ...checkpointJson(c, key), verifier_key: noteVerifierKey(keyId, key) })), null, 2) + '\n');
      } else {
        process.stdout.write(mine.map((c) => formatSignedNote(c, key)).join('\n'));
      }
    });
}

function abbreviate(sizes: readonly number[]): string {
  return sizes.length <= 12 ? sizes.join(', ') : `${sizes.slice(0, 5).join(', ')}, …, ${sizes.slice(-5).join(', ')}`;
}
