// Unit tests of the model building blocks: c(n), calibration, combination, the seeded PRNG, the
// rarity and baseline models, save/load round trips, and the CSV reader on hostile input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv, toFeatureMatrix } from '../csv-table.ts';
import { extractFeatures } from '../features/extract-features.ts';
import type { FeatureRow } from '../features/feature-row.ts';
import { BaselineModel } from './baseline-model.ts';
import { Calibration, calibrate, rowsNeeded } from './calibration.ts';
import { chiSquaredSurvivalEvenDof, combine, fisher } from './combine.ts';
import { defaultModels, Ensemble } from './ensemble.ts';
import { FrequencyModel } from './frequency-model.ts';
import { averagePathLength, IsolationForest, toMatrix } from './isolation-forest.ts';
import { Prng } from './prng.ts';

test('c(n) is the average unsuccessful-search path length of Liu et al. 2008', () => {
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  // 2 H(n-1) - 2(n-1)/n with H(i) ≈ ln(i) + 0.5772156649
  assert.ok(Math.abs(averagePathLength(256) - (2 * (Math.log(255) + 0.5772156649) - (2 * 255) / 256)) < 1e-9);
  assert.ok(Math.abs(averagePathLength(256) - 10.2448) < 1e-3);
});

test('an isolated point scores near 1, a dense one near or below 0.5; save/load keeps the scores', () => {
  const r = new Prng(1);
  const rows = Array.from({ length: 1000 }, () => [r.normal(), r.normal()]);
  const f = new IsolationForest({ trees: 100, seed: 4 }).fit(toMatrix(rows));
  const far = f.scoreRow([8, 8]);
  const centre = f.scoreRow([0, 0]);
  assert.ok(far > 0.7, `far ${far}`);
  assert.ok(centre < 0.5, `centre ${centre}`);
  const again = IsolationForest.load(JSON.parse(JSON.stringify(f.save())));
  assert.equal(again.scoreRow([8, 8]), far);
  assert.throws(() => new IsolationForest().fit(toMatrix([[1]])), /at least 2/);
});

test('constant features never split and do not break the forest', () => {
  const rows = Array.from({ length: 300 }, (_, i) => [5, i % 3]);
  const f = new IsolationForest({ trees: 20, seed: 1 }).fit(toMatrix(rows));
  const s = f.score(toMatrix([[5, 1], [5, 100]]));
  assert.ok(s[1]! > s[0]!);
});

test('calibration maps a score to a smoothed tail probability and -log10(p)/4', () => {
  const c = Calibration.fromScores(Array.from({ length: 9999 }, (_, i) => i));
  assert.equal(c.tail(-1), 1);
  assert.equal(c.tail(1e9), 1 / 10000);
  assert.equal(c.calibrated(1e9), 1);
  assert.ok(Math.abs(c.tail(9000) - 1000 / 10000) < 1e-12);
  assert.ok(Math.abs(calibrate(1 / 1600) - 0.801) < 0.001);
  assert.equal(rowsNeeded(0.8), 1584);
  // A short history cannot reach the threshold: its ceiling says so.
  assert.ok(Calibration.fromScores([1, 2, 3]).ceiling < 0.2);
});

test('Fisher and the chi-squared survival function', () => {
  assert.ok(Math.abs(chiSquaredSurvivalEvenDof(5.991, 1) - 0.05) < 1e-3); // chi2(2) at 5.991
  assert.ok(Math.abs(chiSquaredSurvivalEvenDof(9.488, 2) - 0.05) < 1e-3); // chi2(4) at 9.488
  assert.ok(Math.abs(fisher([0.05]) - 0.05) < 1e-12);
  assert.equal(fisher([1, 1]), 1);
});

test('combination: one sure family carries the score, silent families do not dilute it, weight 0 is left out', () => {
  const rarityOnly = combine([{ family: 'rarity', p: 7e-5, weight: 1 }, { family: 'shape', p: 1, weight: 1 }]);
  assert.ok(rarityOnly.calibrated >= 0.8, `lone strong rarity ${rarityOnly.calibrated}`);
  const moderate = combine([{ family: 'rarity', p: 0.01, weight: 1 }, { family: 'shape', p: 0.01, weight: 1 }, { family: 'resource', p: 0.01, weight: 1 }]);
  assert.ok(moderate.p < 0.01, 'three moderate signals together are stronger than one');
  const sameFamily = combine([{ family: 'rarity', p: 0.01, weight: 1 }, { family: 'rarity', p: 0.01, weight: 1 }, { family: 'rarity', p: 0.01, weight: 1 }]);
  assert.equal(sameFamily.p, 0.01, 'one family counts once');
  const jitter = combine([{ family: 'rarity', p: 0.02, weight: 1 }, { family: 'shape', p: 0.001, weight: 1 }]);
  assert.ok(jitter.calibrated < 0.8, `slightly rare and slightly odd is not an alert (${jitter.calibrated})`);
  const zero = combine([{ family: 'rarity', p: 1e-9, weight: 0 }, { family: 'shape', p: 0.5, weight: 1 }]);
  assert.equal(zero.p, 0.5);
  assert.equal(combine([]).calibrated, 0);
});

const row = (cat: Record<string, string>, num: Record<string, number> = {}, exe = '/usr/bin/x'): FeatureRow => ({ numeric: num, categorical: cat, label: { executable: exe } });

test('rarity: leave-one-out calibration, unseen values score highest, explanations count what was seen', () => {
  const rows: FeatureRow[] = [];
  for (let i = 0; i < 5000; i++) rows.push(row({ parent_child: i % 2 ? 'cron → sh' : 'sh → smartctl' }));
  for (let i = 0; i < 3; i++) rows.push(row({ parent_child: `bash → tool${i}` }));
  const m = new FrequencyModel('parent_child');
  m.fit(rows, { windowDays: 14, seed: 1 });
  const [common, seenOnce, never] = m.score([row({ parent_child: 'cron → sh' }), row({ parent_child: 'bash → tool1' }), row({ parent_child: 'nginx → sh' })]);
  assert.ok(common!.calibrated < 0.1);
  assert.ok(never!.raw > seenOnce!.raw);
  // Three singletons in 5,003 rows: a new value is about a 4-in-5,004 event.
  assert.ok(Math.abs(never!.p - 4 / 5004) < 1e-9, `p ${never!.p}`);
  assert.equal(never!.contributions[0]!.text, 'parent nginx → child sh seen 0 times in 14 days on this host');
  const loaded = FrequencyModel.load(JSON.parse(JSON.stringify(m.save())));
  assert.deepEqual(loaded.score([row({ parent_child: 'nginx → sh' })]), [never]);
});

test('baseline: CPU far above the executable\'s own median/MAD is unusual; unknown executables use the host baseline', () => {
  const r = new Prng(2);
  const rows: FeatureRow[] = [];
  for (let i = 0; i < 3000; i++) rows.push(row({}, { cpu_usage: Math.abs(10 + r.normal() * 3), memory_log2: 24 + r.normal() * 0.2 }, '/usr/bin/busy'));
  for (let i = 0; i < 3000; i++) rows.push(row({}, { cpu_usage: Math.abs(r.normal()), memory_log2: 22 + r.normal() * 0.2 }, '/usr/bin/idle'));
  const m = new BaselineModel();
  m.fit(rows, { windowDays: 14, seed: 1 });
  const [busyNormal, idleHot, newHot, noData] = m.score([
    row({}, { cpu_usage: 12, memory_log2: 24 }, '/usr/bin/busy'),
    row({}, { cpu_usage: 40, memory_log2: 22 }, '/usr/bin/idle'),
    row({}, { cpu_usage: 380, memory_log2: 31 }, '/tmp/xmrig'),
    row({}, {}, '/usr/bin/idle'),
  ]);
  assert.ok(busyNormal!.calibrated < 0.3);
  assert.ok(idleHot!.calibrated >= 0.8, `idle at 40 % ${idleHot!.calibrated}`);
  assert.ok(newHot!.calibrated >= 0.8);
  assert.match(newHot!.contributions[0]!.text, /CPU 380 % vs median .* over all processes on this host/);
  assert.equal(noData!.p, 1);
});

test('the ensemble reports weight 0 with the reason when history is too short', () => {
  const obs = Array.from({ length: 50 }, (_, i) => extractFeatures({
    ref: `exec:${i}`, source: 'exec', pid: i, ppid: 1, start_time: 1_800_000_000_000 + i, observed_at: 1_800_000_000_000 + i, name: 'sh',
    executable_path: '/usr/bin/dash', command_line: 'sh -c true', parent_name: 'cron', parent_path: '/usr/sbin/cron', user: 'uid:0',
    cpu_usage: null, memory_usage: null, file_exists: true, sibling_spawns_5m: 1, fan_out: 0, lifetime_s: null,
  }));
  const e = new Ensemble(defaultModels({ trees: 10 }), 0.8);
  e.fit(obs, { windowDays: 1, seed: 1 });
  for (const s of e.status()) {
    assert.equal(s.weight, 0);
    // The fleet model has no fleet view here (no center): that, not history, is its reason.
    assert.match(s.note, s.kind === 'fleet_rarity' ? /weight 0: no fleet view/ : /weight 0: \d+ training rows can reach at most 0\.\d\d; reaching 0.8 needs 1584/);
  }
  assert.equal(e.score(obs.slice(0, 1))[0]!.score, 0);
});

test('CSV: quoted cells, formula-looking text, ragged rows and non-numbers give DE_ANALYTICS_CSV', () => {
  const t = parseCsv('a,"b, c",label\n1,"2",x\n3,4,y\n');
  assert.deepEqual(t.header, ['a', 'b, c', 'label']);
  const { matrix, columns } = toFeatureMatrix(t, 't', { ignore: ['label'] });
  assert.deepEqual(columns, ['a', 'b, c']);
  assert.deepEqual([...matrix.data], [1, 2, 3, 4]);
  for (const bad of ['', 'a,b\n1\n', 'a\n"unclosed\n', 'a\nNaN\n', 'a\n1e999\n', 'a\n=cmd|calc\n', 'a\n\u0000\n']) {
    assert.throws(() => toFeatureMatrix(parseCsv(bad, 'x'), 'x', {}), (e: unknown) => (e as { code?: string }).code === 'DE_ANALYTICS_CSV', JSON.stringify(bad));
  }
  // Random bytes never throw anything but DE_ANALYTICS_CSV.
  const r = new Prng(9);
  for (let i = 0; i < 300; i++) {
    const text = Array.from({ length: r.int(60) }, () => String.fromCharCode(r.pick([10, 13, 34, 44, 48, 49, 46, 45, 101, 97, r.int(256)]))).join('');
    try {
      toFeatureMatrix(parseCsv(text, 'fuzz'), 'fuzz', {});
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'DE_ANALYTICS_CSV', JSON.stringify(text));
    }
  }
});

test('rarity is irregularity first: a daily job is ordinary, a burst on one day is not', () => {
  const rows: FeatureRow[] = [];
  const at = (v: string, day: number): FeatureRow => ({ numeric: {}, categorical: { parent_child: v }, label: { day: String(day) } });
  for (let day = 0; day < 14; day++) {
    for (let i = 0; i < 500; i++) rows.push(at('cron → sh', day));
    rows.push(at('systemd → logrotate', day));
  }
  for (let i = 0; i < 14; i++) rows.push(at('bash → nmap', 3));
  const m = new FrequencyModel('parent_child');
  m.fit(rows, { windowDays: 14, seed: 1 });
  const [daily, burst] = m.score([at('systemd → logrotate', 20), at('bash → nmap', 20)]);
  assert.ok(daily!.raw < burst!.raw, 'once a day for 14 days is more regular than 14 times on one day');
  assert.ok(daily!.calibrated < burst!.calibrated, `logrotate ${daily!.calibrated} vs nmap ${burst!.calibrated}`);
  assert.equal(burst!.contributions[0]?.text, 'parent bash → child nmap seen 14 times in 14 days on this host');
});

test('sampling without replacement: distinct, in range, seeded, for small and large shares', () => {
  for (const [n, k] of [[1_000_000, 256], [300, 256], [10, 10], [5, 8]] as const) {
    const a = new Prng(3).sample(n, k);
    assert.equal(a.length, Math.min(n, k));
    assert.equal(new Set(a).size, a.length);
    assert.ok(a.every((v) => v >= 0 && v < n));
    assert.deepEqual(a, new Prng(3).sample(n, k));
  }
});
