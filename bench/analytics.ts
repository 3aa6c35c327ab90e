// Behavioural analytics (issue 7): scoring cost, training cost, CPU share at a 30 s scan interval,
// and the detection figures on simulated weeks; scikit-learn's isolation forest on the same data
// for scale when it is installed. Prints, never asserts.
//   targets: score 10,000 processes < 100 ms; < 2 % CPU at 30 s on 1,000 processes;
//            recall > 0.9 at < 1 false alert per host per day (threshold 0.8)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnalyticsDetector } from '../src/analytics/detect/analytics-detector.ts';
import { extractFeatures } from '../src/analytics/features/extract-features.ts';
import type { FeatureRow } from '../src/analytics/features/feature-row.ts';
import { loadObservations } from '../src/analytics/features/load-observations.ts';
import { findSklearn, runSklearnIforest } from '../src/analytics/eval/sklearn-reference.ts';
import { LIVE_IFOREST_FEATURES, defaultModels, Ensemble } from '../src/analytics/models/ensemble.ts';
import { IsolationForest } from '../src/analytics/models/isolation-forest.ts';
import { saveVersion, packBundle } from '../src/analytics/lifecycle/model-store.ts';
import { evaluateDetection } from '../src/analytics/sim/evaluate-detection.ts';
import { ROLES } from '../src/analytics/sim/host-roles.ts';
import { simulateHost } from '../src/analytics/sim/simulate-host.ts';
import { fixtureProcess } from '../src/detect/sql/fixture-runner.ts';
import { diffScans, indexByKey } from '../src/normalize/lifecycle-diff.ts';
import type { ProcessSnapshot } from '../src/normalize/process-snapshot.ts';
import { openStoreForWriting, storePath } from '../src/store/open-store.ts';
import { ScanWriter } from '../src/store/scan-writer.ts';
import { fmt, median } from './bench-utils.ts';

const TRAIN_ROWS = Number(process.env['BENCH_TRAIN_ROWS'] ?? 1_000_000);
const HOSTS_PER_ROLE = Number(process.env['BENCH_HOSTS_PER_ROLE'] ?? 3);
const START = Date.UTC(2026, 10, 2);
const dir = mkdtempSync(join(tmpdir(), 'de-bench-analytics-'));
const sk = findSklearn();
const mb = (b: number) => fmt(b / 1048576, 0);

console.log('# analytics: behavioural models (issue 7)');
console.log(`reference: ${sk.python ? sk.reason : `none — ${sk.reason}`}`);

// A trained model set for a CI runner (the busiest role): 14 simulated days. Users as the store has
// them (uid:N), so rows read back from the store look like the training rows.
const UIDS: Record<string, number> = { root: 0, 'gitlab-runner': 998, admin: 1000 };
const history = simulateHost({ role: 'ci', seed: 1, startMs: START, days: 14, attacks: [] })
  .map((o) => ({ ...o, obs: { ...o.obs, user: `uid:${UIDS[o.obs.user] ?? 1000}` } }));
const trainRows = history.map((o) => extractFeatures(o.obs));
const ensemble = new Ensemble(defaultModels({ machineLearning: true }), 0.8);
ensemble.fit(trainRows, { windowDays: 14, seed: 1 });

// 1. Scoring 10,000 processes: feature extraction + six models + combination + explanations.
{
  const fresh = simulateHost({ role: 'ci', seed: 2, startMs: START + 14 * 86_400_000, days: 2, attacks: [] }).slice(0, 10_000).map((o) => o.obs);
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    ensemble.score(fresh.map(extractFeatures));
    const c = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  console.log(`score 10,000 processes (features + 6 models + combination + explanations): ${fmt(median(times))} ms wall, ${fmt(median(cpu))} ms CPU, median of 9 (target < 100 ms)`);
  const x = fresh.map(extractFeatures).map((r) => LIVE_IFOREST_FEATURES.map((f) => r.numeric[f] ?? 0));
  const forest = new IsolationForest({ trees: 100, seed: 1 }).fit({ data: Float64Array.from(trainRows.flatMap((r) => LIVE_IFOREST_FEATURES.map((f) => r.numeric[f] ?? 0))), rows: trainRows.length, cols: LIVE_IFOREST_FEATURES.length });
  const matrix = { data: Float64Array.from(x.flat()), rows: x.length, cols: LIVE_IFOREST_FEATURES.length };
  const ft: number[] = [];
  for (let i = 0; i < 7; i++) { const t0 = performance.now(); forest.score(matrix); ft.push(performance.now() - t0); }
  let line = `  isolation forest alone (100 trees, 10,000 x ${matrix.cols}): ${fmt(median(ft))} ms`;
  if (sk.python) {
    const a = join(dir, 'if-train.csv');
    const b = join(dir, 'if-input.csv');
    writeFileSync(a, [LIVE_IFOREST_FEATURES.join(','), ...trainRows.slice(0, 50_000).map((r) => LIVE_IFOREST_FEATURES.map((f) => r.numeric[f] ?? 0).join(','))].join('\n'));
    writeFileSync(b, [LIVE_IFOREST_FEATURES.join(','), ...x.map((r) => r.join(','))].join('\n'));
    const s = runSklearnIforest(a, b, { seed: 1, trees: 100 });
    line += `; scikit-learn ${s.version}: ${fmt(s.scoreMs)} ms (ratio ${fmt(median(ft) / s.scoreMs, 2)})`;
  }
  console.log(line);
}

// 2. Training on 1,000,000 rows: every role, several hosts' worth of simulated days, fitted as one set.
{
  const rows: FeatureRow[] = [];
  for (let seed = 1; rows.length < TRAIN_ROWS; seed++) {
    for (const role of ROLES) {
      for (const o of simulateHost({ role, seed, startMs: START, days: 14, attacks: [] })) {
        if (rows.length < TRAIN_ROWS) rows.push(extractFeatures(o.obs));
      }
    }
  }
  global.gc?.();
  const before = process.memoryUsage();
  let peak = before.rss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const t0 = performance.now();
  const big = new Ensemble(defaultModels({ machineLearning: true }), 0.8);
  big.fit(rows, { windowDays: 14, seed: 1 });
  const fitMs = performance.now() - t0;
  const bundle = packBundle(big.save());
  const totalMs = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(`train on ${rows.length.toLocaleString('en')} rows: fit ${fmt(fitMs / 1000, 2)} s, + save ${fmt((totalMs - fitMs) / 1000, 2)} s; RSS ${mb(before.rss)} -> peak ${mb(peak)} MiB (the rows themselves: ${mb(before.heapUsed)} MiB of heap); saved version ${fmt(bundle.length / 1024, 0)} KiB gzip`);
  const cols = LIVE_IFOREST_FEATURES.length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => LIVE_IFOREST_FEATURES.forEach((f, j) => { data[i * cols + j] = r.numeric[f] ?? 0; }));
  const t1 = performance.now();
  const forest = new IsolationForest({ trees: 100, seed: 1 }).fit({ data, rows: rows.length, cols });
  const forestFit = performance.now() - t1;
  const t2 = performance.now();
  forest.score({ data, rows: rows.length, cols });
  const forestScore = performance.now() - t2;
  let line = `  isolation forest alone on ${rows.length.toLocaleString('en')} x ${cols}: fit ${fmt(forestFit)} ms (psi = 256 subsamples), score all rows ${fmt(forestScore / 1000, 2)} s`;
  if (sk.python) {
    const a = join(dir, 'big.csv');
    const lines = [LIVE_IFOREST_FEATURES.join(',')];
    for (let i = 0; i < rows.length; i++) lines.push(Array.from(data.subarray(i * cols, (i + 1) * cols)).join(','));
    writeFileSync(a, lines.join('\n'));
    const s = runSklearnIforest(a, a, { seed: 1, trees: 100 });
    line += `; scikit-learn: fit ${fmt(s.fitMs)} ms, score ${fmt(s.scoreMs / 1000, 2)} s`;
  }
  console.log(line);
}

// 3. CPU share at a 30 s scan interval on 1,000 processes: the agent's detect pass over a real store
// when all 1,000 processes of a scan are new (the worst case), plus retraining amortised over a day.
{
  const path = storePath(dir);
  const db = openStoreForWriting(path);
  const writer = new ScanWriter(db);
  const now = Date.now();
  const snap = (given: Record<string, unknown>, i: number) => fixtureProcess(given, i) as unknown as ProcessSnapshot;
  const init = [snap({ pid: 1, ppid: 0, name: 'systemd', executable_path: '/usr/lib/systemd/systemd', command_line: '/sbin/init' }, 0)];
  writer.write({ host: 'bench', startedAt: now - 60_000, finishedAt: now - 59_990, snapshots: init, inaccessible: 0, vanished: 0 }, []);
  const procs = [...init, ...Array.from({ length: 999 }, (_, i) => {
    const o = history[(i * 37) % history.length]!.obs;
    return snap({ pid: 100 + i, ppid: 1, name: o.name, executable_path: o.executable_path, command_line: o.command_line, cpu_usage: 1 + (i % 20), memory_usage: (10 + (i % 50)) * 1048576, start_time: now - 20_000 }, i + 1);
  })];
  writer.write({ host: 'bench', startedAt: now - 30_000, finishedAt: now - 29_990, snapshots: procs, inaccessible: 0, vanished: 0 }, diffScans(indexByKey(init), indexByKey(procs), now - 29_990));
  const set = { bundle: packBundle(ensemble.save()), models: ensemble.status(), trainingRows: trainRows.length, excludedRows: 0, windowFrom: START, windowTo: START + 14 * 86_400_000, seed: 1, durationMs: 0 };
  saveVersion(db, set, 'bench');
  const detector = new AnalyticsDetector({ dbPath: path, threshold: 0.8, windowDays: 14, updateInterval: 86_400, autoTrain: false });
  const times: number[] = [];
  let scored = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = process.cpuUsage();
    const obs = loadObservations(db, { from: now - 120_000, to: now });
    detector.scoreObservations(obs);
    const d = process.cpuUsage(t0);
    times.push((d.user + d.system) / 1000);
    scored = obs.length;
  }
  const perScan = median(times);
  const trainT0 = performance.now();
  new Ensemble(defaultModels({ machineLearning: true }), 0.8).fit(trainRows, { windowDays: 14, seed: 1 });
  const trainMs = performance.now() - trainT0;
  console.log(`CPU at a 30 s scan interval, ${scored} new processes per scan (all of them; worst case): ${fmt(perScan)} ms CPU per scan = ${fmt((perScan / 30_000) * 100, 2)} % of one core; ` +
    `daily retrain on ${trainRows.length.toLocaleString('en')} rows ${fmt(trainMs / 1000, 1)} s = ${fmt((trainMs / 86_400_000) * 100, 3)} % (target < 2 %; product docs: 10-20 %)`);
  // Kernel passes: at 2,000 execs a second the agent runs a pass every 250 ms over ~500 new exec rows.
  const ins = db.prepare(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id,
    comm, filename, argv, command_line, args_truncated, ancestry) VALUES (?, 0, ?, ?, ?, ?, 0, 0, 0, ?, ?, '[]', ?, 0, ?)`);
  const execRows = history.filter((o) => o.obs.source === 'exec').slice(0, 10_000);
  const recentSpawns = new Map<number, number[]>();
  const passCpu: number[] = [];
  for (let pass = 0; pass < 20; pass++) {
    const cursor = (db.prepare('SELECT coalesce(max(id), 0) AS m FROM process_exec').get() as { m: number }).m;
    const t = now - 10_000 + pass * 250;
    db.transaction(() => {
      for (let i = 0; i < 500; i++) {
        const o = execRows[(pass * 500 + i) % execRows.length]!.obs;
        ins.run(t + i / 2, 200_000 + pass * 500 + i, 200_000 + pass * 500 + i, o.ppid, Number(o.user.slice(4)), o.name.slice(0, 15), o.executable_path, o.command_line,
          JSON.stringify([{ pid: o.ppid, name: o.parent_name, exe: o.parent_path }]));
      }
    })();
    const c0 = process.cpuUsage();
    detector.scoreObservations(loadObservations(db, { from: t, to: now + 1, execAfter: cursor, lifecycleAfter: Number.MAX_SAFE_INTEGER, recentSpawns }));
    const c = process.cpuUsage(c0);
    passCpu.push((c.user + c.system) / 1000);
  }
  const perPass = median(passCpu);
  console.log(`kernel passes at 2,000 execs/s (a pass every 250 ms over 500 new execs): ${fmt(perPass)} ms CPU per pass = ${fmt((perPass * 4 / 1000) * 100, 2)} % of one core`);
  await detector.close();
  db.close();
}

// 4. Detection on simulated weeks.
{
  const t0 = performance.now();
  for (const [threshold, machineLearning] of [[0.8, true], [0.9, true], [0.8, false]] as const) {
    const f = evaluateDetection({ seed: 7, hostsPerRole: HOSTS_PER_ROLE, trainDays: 14, testDays: 7, threshold, machineLearning });
    console.log(`detection at threshold ${threshold}${machineLearning ? '' : ' without the isolation forest (enable_machine_learning: false)'}: ${f.hosts} hosts (${HOSTS_PER_ROLE} per role), 14 days training + 7 days test, ${f.attacks} injected attacks: ` +
      `recall ${fmt(f.recall, 3)}, precision ${fmt(f.precision, 3)}, false alerts ${fmt(f.falseAlertsPerHostDay, 2)} per host per day ` +
      `(target: recall > 0.9 at < 1 false alert per host per day)`);
    if (threshold === 0.8 && machineLearning) {
      console.log(`  by attack: ${Object.entries(f.byKind).map(([k, v]) => `${k} ${v.detected}/${v.attacks}`).join(', ')}`);
      console.log(`  false alerts by role (per host per day): ${Object.entries(f.byRole).map(([k, v]) => `${k} ${fmt(v.falseAlerts / (HOSTS_PER_ROLE * 7), 2)}`).join(', ')}`);
      for (const e of f.examples.slice(0, 3)) console.log(`  e.g. ${e.kind} on ${e.role} (score ${fmt(e.score, 2)}): ${e.explanation.slice(0, 200)}`);
    }
  }
  console.log(`  (evaluation took ${fmt((performance.now() - t0) / 1000, 1)} s; ${ROLES.length * HOSTS_PER_ROLE * 7} simulated host-days of testing per line)`);
}
rmSync(dir, { recursive: true, force: true });
