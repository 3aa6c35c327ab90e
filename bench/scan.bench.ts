// One full scan (enumerate + metadata + cached hashes + store) at this host's process count and with
// 5,000 extra sleeping processes, beside `ps -eo pid,ppid,user,rss,etime,args` in the same run.
// Targets (issue #2): steady-state scan of 5,000 processes < 500 ms and within 3x of ps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffScans, indexByKey } from '../src/normalize/lifecycle-diff.ts';
import { ProcfsScanner } from '../src/sources/procfs/procfs-scanner.linux.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import { ScanWriter } from '../src/store/scan-writer.ts';
import { fmt, median, processCount, spawnSleepers, timeCommand } from './bench-utils.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const EXTRA = Number(process.env['BENCH_EXTRA_PROCESSES'] ?? 5000);

async function measure(label: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'de-bench-scan-'));
  const db = openStoreForWriting(join(dir, 'daemoneye.db'));
  const writer = new ScanWriter(db);
  const scanner = new ProcfsScanner();
  let previous = null;
  const scanMs: number[] = [];
  const storeMs: number[] = [];
  let cold = 0;
  let n = 0;
  for (let i = 0; i <= ROUNDS; i++) {
    const t0 = performance.now();
    const scan = await scanner.scan();
    const t1 = performance.now();
    const current = indexByKey(scan.snapshots);
    writer.write({ host: 'bench', ...scan }, diffScans(previous, current, scan.finishedAt));
    previous = current;
    const t2 = performance.now();
    n = scan.snapshots.length;
    if (i === 0) cold = t2 - t0; // first scan hashes every executable
    else {
      scanMs.push(t1 - t0);
      storeMs.push(t2 - t1);
    }
  }
  const psMs = median(Array.from({ length: ROUNDS }, () => timeCommand('ps', ['-eo', 'pid,ppid,user,rss,etime,args'])));
  const full = median(scanMs.map((s, i) => s + storeMs[i]!));
  console.log(`${label}: ${n} processes`);
  console.log(`  cold scan+store (hashing every executable): ${fmt(cold)} ms`);
  console.log(`  steady scan (read /proc):   median ${fmt(median(scanMs))} ms  (${fmt((median(scanMs) * 1000) / n, 1)} µs/process)`);
  console.log(`  steady store (1 txn):       median ${fmt(median(storeMs))} ms`);
  console.log(`  steady scan+store:          median ${fmt(full)} ms  (${fmt((full * 1000) / n, 1)} µs/process)`);
  console.log(`  ps -eo pid,ppid,user,rss,etime,args: median ${fmt(psMs)} ms`);
  console.log(`  ratio scan/ps ${fmt(median(scanMs) / psMs, 2)}x, scan+store/ps ${fmt(full / psMs, 2)}x`);
  const c = scanner.counters();
  console.log(`  hash cache hits ${c['hash_cache_hits'] ?? '?'}, misses ${c['hash_cache_misses'] ?? '?'}, bytes hashed ${c['bytes_hashed'] ?? '?'}`);
  await scanner.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`# scan benchmark (${ROUNDS} steady rounds, medians)`);
await measure(`this host (${processCount()} processes)`);
const kill = await spawnSleepers(EXTRA);
try {
  await measure(`this host + ${EXTRA} sleepers`);
} finally {
  kill();
}
