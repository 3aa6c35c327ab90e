// The audit ledger's public surface: the writer, verification, proofs, and the pieces an external
// verifier needs (canonical JSON, the RFC 6962 tree, the checkpoint text). docs/ledger.md.
export { canonicalize, isCanonicalJson, CanonicalJsonError } from './canonical-json.ts';
export {
  checkpointBody, checkpointOrigin, formatSignedNote, noteKeyHash, noteVerifierKey, parseCheckpointNotes,
  type Checkpoint, type CheckpointHead, type ParsedCheckpointNote,
} from './checkpoint-note.ts';
export {
  DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_INTERVAL_MS, LEDGER_KINDS, Ledger,
  type AppendResult, type CheckpointResult, type LedgerOptions,
} from './ledger.ts';
export {
  LEDGER_KEY_FILE, LEDGER_PUBLIC_KEY_FILE, ephemeralSigner, keyIdOf, openLedgerKey, publicKeyFromPem, readLedgerPublicKey,
  readPublicKeyFile, type LedgerSigner, type OpenedLedgerKey,
} from './ledger-key.ts';
export { findAlertEntries, ledgerConsistencyProof, ledgerInclusionProof, type LedgerInclusionProof } from './ledger-proofs.ts';
export { latestCheckpoint, readCheckpoint, readCheckpoints } from './ledger-table.ts';
export {
  CompactRange, EMPTY_ROOT, consistencyProof, hashChildren, hashLeaf, inclusionProof, merkleRoot, verifyConsistency, verifyInclusion,
  type LeafSource,
} from './merkle.ts';
export { verifyLedger, type LedgerProblem, type LedgerProblemKind, type LedgerVerifyReport, type VerifyLedgerOptions } from './verify-ledger.ts';
