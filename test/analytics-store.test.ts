// The analytics lifecycle on a real SQLite store: cold start, training from the store's window in a
// worker thread, scoring new kernel execs and scan starts, alerts with explanations through the real
// AlertRecorder, retraining that leaves alerted processes out, versions and rollback, and the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanEnv, MAIN } from './cli-helpers.ts';
import { AlertRecorder } from '../src/alerts/alert-recorder.ts';
import { AnalyticsDetector, ANOMALY_RULE } from '../src/analytics/detect/analytics-detector.ts';
import { loadObservations } from '../src/analytics/features/load-observations.ts';
import { listVersions, rollback } from '../src/analytics/lifecycle/model-store.ts';
import { attackSteps } from '../src/analytics/sim/attacks.ts';
import { simulateHost } from '../src/analytics/sim/simulate-host.ts';
import { Prng } from '../src/analytics/models/prng.ts';
import { CURSOR_START, type DetectionContext, type RuleCursor } from '../src/detect/detector.ts';
import { diffScans, indexByKey } from '../src/normalize/lifecycle-diff.ts';
import type { ProcessSnapshot } from '../src/normalize/process-snapshot.ts';
import { openStoreForWriting, storePath, type Db } from '../src/store/open-store.ts';
import { ScanWriter } from '../src/store/scan-writer.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'de-analytics-'));
  dirs.push(d);
  return d;
}

const cli = (dir: string, ...args: string[]) => spawnSync(process.execPath, [MAIN, '--data-dir', dir, ...args], {
  encoding: 'utf8', maxBuffer: 1 << 28, env: cleanEnv({ DAEMONEYE_ENTERPRISE__ANALYTICS__ENABLE_BEHAVIORAL_ANALYSIS: 'true', DAEMONEYE_ENTERPRISE__ANALYTICS__ENABLE_MACHINE_LEARNING: 'true' }),
});

let nextExecId = 0;
function insertExec(db: Db, rows: { time: number; pid: number; ppid: number; uid: number; comm: string; filename: string; cmd: string; parent: { name: string; exe: string } | null }[]): void {
  const ins = db.prepare(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id,
    comm, filename, argv, command_line, args_truncated, ancestry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 0, ?)`);
  db.transaction(() => {
    for (const r of rows) {
      nextExecId++;
      ins.run(r.time, r.time * 1000, r.pid, r.pid, r.ppid, r.uid, r.uid, r.uid, r.comm.slice(0, 15), r.filename,
        JSON.stringify(r.cmd.split(' ')), r.cmd, r.parent === null ? null : JSON.stringify([{ pid: r.ppid, name: r.parent.name, exe: r.parent.exe }]));
    }
  })();
}

const UIDS: Record<string, number> = { root: 0, 'www-data': 33, admin: 1000, postgres: 114 };

/** Ten simulated days of a web server's execs, ending now. */
function seedHistory(db: Db, now: number): void {
  const obs = simulateHost({ role: 'web', seed: 3, startMs: now - 10 * 86_400_000, days: 10, attacks: [] }).filter((o) => o.obs.source === 'exec' && o.obs.start_time < now - 60_000);
  insertExec(db, obs.map(({ obs: o }) => ({ time: o.start_time, pid: o.pid, ppid: o.ppid ?? 1, uid: UIDS[o.user] ?? 1000, comm: o.name,
    filename: o.executable_path!, cmd: o.command_line, parent: { name: o.parent_name!, exe: o.parent_path! } })));
}

function heads(db: Db): RuleCursor {
  return { ...CURSOR_START, ...db.prepare(`SELECT (SELECT coalesce(max(id), 0) FROM process_lifecycle) AS lifecycle, (SELECT coalesce(max(id), 0) FROM process_exec) AS exec,
    (SELECT coalesce(max(id), 0) FROM process_exit) AS exit, (SELECT coalesce(max(id), 0) FROM network_connections) AS connection,
    (SELECT coalesce(max(id), 0) FROM process_security_events) AS security`).get() as object };
}

function context(db: Db, recorder: AlertRecorder, trigger: 'scan' | 'kernel'): DetectionContext {
  return { trigger, scanId: null, heads: heads(db), cursors: recorder.cursors() };
}

function snapshot(pid: number, ppid: number, name: string, exe: string, cmd: string, cpu: number, memMb: number, at: number): ProcessSnapshot {
  return {
    pid, ppid, name, executable_path: exe, command_line: cmd, argv: JSON.stringify(cmd.split(' ')), start_time: at - 5000, start_ticks: pid,
    cpu_usage: cpu, memory_usage: memMb * 1048576, status: 'S', executable_hash: null, hash_algorithm: null, hash_status: 'skipped',
    user_id: 33, group_id: 33, effective_user_id: 33, effective_group_id: 33, user_name: 'www-data', accessible: 1, file_exists: 1,
    cwd: '/', tty: null, session_id: 1, pgid: pid, threads: 1, pid_ns: 1, mnt_ns: 1, net_ns: 1, container_id: null, environment: null,
    is_kernel_thread: 0, collection_time: at,
  } as unknown as ProcessSnapshot;
}

test('cold start is a state: no model, no findings, the CLI says so', async () => {
  const dir = dataDir();
  const db = openStoreForWriting(storePath(dir));
  const recorder = new AlertRecorder(db, 'h1');
  const detector = new AnalyticsDetector({ dbPath: storePath(dir), threshold: 0.8, windowDays: 14, updateInterval: 86_400, autoTrain: false });
  assert.equal(detector.state, 'cold_start');
  const run = await detector.detect(context(db, recorder, 'scan'));
  assert.deepEqual(run.findings, []);
  assert.equal(run.outcomes[0]!.status, 'ok');
  await detector.close();
  db.close();
  const status = cli(dir, 'analytics', 'status');
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /state: cold start/);
  const train = cli(dir, 'analytics', 'train');
  assert.equal(train.status, 2);
  assert.match(train.stderr, /DE_ANALYTICS_TOO_FEW_ROWS/);
  assert.match(train.stderr, /hint: let the agent run/);
  const rb = cli(dir, 'analytics', 'rollback');
  assert.match(rb.stderr, /DE_ANALYTICS_NO_VERSION/);
  // Out-of-range analytics settings are refused with a code, before anything runs.
  for (const [key, value] of [['TRAINING_WINDOW_DAYS', '0'], ['ANOMALY_THRESHOLD', '1.5'], ['MODEL_UPDATE_INTERVAL', '5']] as const) {
    const r = spawnSync(process.execPath, [MAIN, '--data-dir', dir, 'analytics', 'status'], { encoding: 'utf8', env: cleanEnv({ [`DAEMONEYE_ENTERPRISE__ANALYTICS__${key}`]: value }) });
    assert.equal(r.status, 2, `${key}=${value}`);
    assert.match(r.stderr, /error DE_(ENV|CONFIG)_INVALID/);
  }
  const badSeed = cli(dir, 'analytics', 'train', '--seed', '-1');
  assert.match(badSeed.stderr, /DE_USAGE/);
});

test('train from the store, alert with an explanation, retrain without the alerted process, roll back', async () => {
  const dir = dataDir();
  const path = storePath(dir);
  const db = openStoreForWriting(path);
  const now = Date.now();
  seedHistory(db, now);
  const recorder = new AlertRecorder(db, 'web1');
  const detector = new AnalyticsDetector({ dbPath: path, threshold: 0.8, windowDays: 14, updateInterval: 86_400, seed: 7 });
  // The first scan pass of a cold agent starts training in a worker and returns at once.
  const first = await detector.detect(context(db, recorder, 'scan'));
  recorder.record(first, null);
  assert.deepEqual(first.findings, []);
  assert.ok(detector.training !== null, 'a cold start with history trains');
  await detector.training;
  assert.equal(detector.state, 'active');
  assert.equal(detector.modelVersion, 1);
  const v1 = listVersions(db)[0]!;
  assert.equal(v1.trained_by, 'cold_start');
  assert.ok(v1.training_rows > 5000, `trained on ${v1.training_rows}`);
  const models = JSON.parse(v1.models) as { name: string; weight: number; note: string }[];
  assert.deepEqual(models.map((m) => m.name), ['rarity:parent_child', 'rarity:executable_path', 'fleet_rarity:executable_path', 'rarity:user_executable', 'rarity:location_class', 'iforest', 'baseline']);
  // No center here: the fleet model is weighted 0 and says so.
  assert.match(models.find((m) => m.name === 'fleet_rarity:executable_path')!.note, /weight 0: no fleet view/);
  // No scan rows in this store: the baseline model has no history and says why it is weighted 0.
  const baseline = models.find((m) => m.name === 'baseline')!;
  assert.equal(baseline.weight, 0);
  assert.match(baseline.note, /weight 0: 0 training rows/);

  // A web shell and a few ordinary processes arrive from the kernel.
  const t = now - 1000;
  const steps = attackSteps('web_shell', 'web', new Prng(1));
  insertExec(db, [
    { time: t, pid: 90001, ppid: 300, uid: 0, comm: 'sh', filename: '/usr/bin/dash', cmd: '/bin/sh -c /usr/local/bin/collect-smart.sh > /var/lib/node_exporter/smart.prom', parent: { name: 'cron', exe: '/usr/sbin/cron' } },
    ...steps.map((s, i) => ({ time: t + i, pid: 90100 + i, ppid: s.parent[0] === 'sh' ? 90100 : 301, uid: 33, comm: s.child[0], filename: s.child[1], cmd: s.cmd, parent: { name: s.parent[0], exe: s.parent[1] } })),
  ]);
  const run = await detector.detect(context(db, recorder, 'kernel'));
  const raised = recorder.record(run, null);
  const ids = new Set(run.findings.map((f) => f.row['pid']));
  assert.ok(!ids.has(90001), 'the ordinary cron job is not an anomaly');
  assert.ok(ids.has(90101), `the shell's "id" is an anomaly (found ${[...ids].join(', ')})`);
  const idAlert = raised.find((a) => a.pid === 90101)!;
  assert.equal(idAlert.rule_id, ANOMALY_RULE.id);
  assert.match(idAlert.summary, /anomalous process sh → id \(score (0\.[89]\d|1\.00)\)/);
  assert.match(idAlert.summary, /parent dash → child id seen 0 times in 10 days on this host/);
  const evidence = idAlert.evidence as { score: number; models: { model: string; p: number }[]; contributions: { text: string }[] };
  assert.ok(evidence.score >= 0.8);
  assert.equal(evidence.models.length, 7);
  assert.ok(evidence.contributions.length >= 1);
  // Scores of 0.5 and above are kept with their explanation.
  const kept = db.prepare('SELECT count(*) AS n, sum(alerted) AS a FROM analytics_scores').get() as { n: number; a: number };
  assert.ok(kept.a >= 1 && kept.n >= kept.a);

  // Cursor: the same rows are not scored twice.
  const again = await detector.detect(context(db, recorder, 'kernel'));
  assert.equal(again.findings.length, 0);

  // Retraining leaves the alerted processes out, and keeps version 1.
  const v2 = await detector.retrain('schedule');
  assert.equal(v2, 2);
  const versions = listVersions(db);
  assert.deepEqual(versions.map((v) => [v.version, v.status]), [[2, 'active'], [1, 'inactive']]);
  assert.ok(versions[0]!.excluded_rows >= raised.length, `excluded ${versions[0]!.excluded_rows} of ${raised.length} alerted`);

  // Rollback through the CLI; the detector follows at its next scan pass.
  const rb = cli(dir, 'analytics', 'rollback');
  assert.equal(rb.status, 0, rb.stderr);
  assert.match(rb.stdout, /active model version: 1 \(was 2\)/);
  await detector.detect(context(db, recorder, 'scan'));
  assert.equal(detector.modelVersion, 1);
  assert.throws(() => rollback(db), /no earlier model version/);
  const status = cli(dir, 'analytics', 'status', '--format', 'json');
  assert.equal(status.status, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { state: string; active_version: number; versions: { status: string }[]; models: unknown[] };
  assert.equal(s.state, 'active');
  assert.equal(s.active_version, 1);
  assert.deepEqual(s.versions.map((v) => v.status), ['rolled_back', 'active']);
  // The feature table export feeds `analytics score` directly.
  const features = cli(dir, 'analytics', 'features', '--days', '11');
  assert.equal(features.status, 0, features.stderr);
  const lines = features.stdout.trim().split('\n');
  assert.match(lines[0]!, /^id,cmdline_length,cmdline_entropy,arg_base64,arg_urls,arg_ip_literals,child_spawn_rate,network_fan_out,location_code,/);
  assert.ok(lines.length > 5000 && lines[1]!.startsWith('exec:'));
  const table = join(dir, 'features.csv');
  writeFileSync(table, features.stdout);
  const scored = cli(dir, 'analytics', 'score', '--train', table, '--input', table, '--features', 'cmdline_length,cmdline_entropy,arg_urls', '--seed', '2');
  assert.equal(scored.status, 0, scored.stderr);
  assert.equal(scored.stdout.trim().split('\n').length, lines.length);
  const unusable = cli(dir, 'analytics', 'score', '--train', table, '--input', table);
  assert.equal(unusable.status, 2);
  assert.match(unusable.stderr, /DE_ANALYTICS_CSV: .* column "cpu_usage": "" is not a number/);
  const trained = cli(dir, 'analytics', 'train', '--window-days', '7', '--seed', '3');
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stdout, /trained version 3 on \d+ observations/);
  await detector.close();
  db.close();
});

test('scan starts become observations with resources, parent and fan-out', () => {
  const dir = dataDir();
  const db = openStoreForWriting(storePath(dir));
  const writer = new ScanWriter(db);
  const t0 = Date.now() - 60_000;
  const php = snapshot(301, 1, 'php-fpm8.2', '/usr/sbin/php-fpm8.2', 'php-fpm: pool www', 1, 40, t0);
  const s1 = [php];
  writer.write({ host: 'h', startedAt: t0, finishedAt: t0 + 10, snapshots: s1, inaccessible: 0, vanished: 0 }, diffScans(null, indexByKey(s1), t0 + 10));
  const miner = snapshot(4242, 301, 'kswapd0', '/dev/shm/.cache/kswapd0', '/dev/shm/.cache/kswapd0 -o stratum+tcp://203.0.113.9:3333', 380, 2300, t0 + 30_000);
  const s2 = [php, miner];
  writer.write({ host: 'h', startedAt: t0 + 30_000, finishedAt: t0 + 30_010, snapshots: s2, inaccessible: 0, vanished: 0 }, diffScans(indexByKey(s1), indexByKey(s2), t0 + 30_010));
  db.prepare(`INSERT INTO network_connections (time, ktime_ns, event, pid, tid, ppid, user_id, comm, cgroup_id, family, protocol, local_address,
    local_port, remote_address, remote_port) VALUES (?, 0, 'connect', 4242, 4242, 301, 33, 'kswapd0', 0, 2, 'tcp', '10.0.0.2', ?, ?, 3333)`)
    .run(t0 + 29_000, 40000, '203.0.113.9');
  const obs = loadObservations(db, { from: t0 - 1, to: Date.now() });
  const m = obs.find((o) => o.pid === 4242)!;
  assert.equal(m.source, 'scan');
  assert.equal(m.parent_name, 'php-fpm8.2');
  assert.equal(m.cpu_usage, 380);
  assert.equal(m.memory_usage, 2300 * 1048576);
  assert.equal(m.fan_out, 1);
  assert.equal(m.user, 'uid:33');
  db.close();
});

test('an unreadable active version does not stop the detector: it runs as a cold start and says why', async () => {
  const dir = dataDir();
  const path = storePath(dir);
  const db = openStoreForWriting(path);
  db.prepare(`INSERT INTO analytics_model_versions (created_at, window_from, window_to, training_rows, excluded_rows, seed, status,
    trained_by, duration_ms, models, bundle) VALUES (1, 0, 1, 10, 0, 1, 'active', 'test', 1, '[]', ?)`).run(Buffer.from('garbage'));
  const warnings: string[] = [];
  const detector = new AnalyticsDetector({ dbPath: path, threshold: 0.8, windowDays: 14, updateInterval: 86_400, autoTrain: false,
    log: (level, message, fields) => warnings.push(`${level} ${message} ${String(fields['code'])}`) });
  assert.equal(detector.state, 'cold_start');
  assert.deepEqual(warnings, ['warn analytics model unusable DE_ANALYTICS_CORRUPT']);
  const recorder = new AlertRecorder(db, 'h');
  const run = await detector.detect(context(db, recorder, 'scan'));
  assert.deepEqual(run.findings, []);
  assert.equal(warnings.length, 1, 'not retried on every scan');
  await detector.close();
  db.close();
  const status = cli(dir, 'analytics', 'status', '--format', 'json');
  const s = JSON.parse(status.stdout) as { state: string; unusable: string; last_train_error: string };
  assert.equal(s.state, 'unusable');
  assert.match(s.unusable, /^DE_ANALYTICS_CORRUPT/);
  assert.match(s.last_train_error, /^DE_ANALYTICS_CORRUPT/);
  assert.match(cli(dir, 'analytics', 'status').stdout, /state: unusable — version 1 cannot be read back/);
});

test('sibling counts carry over between incremental loads without re-reading the last 5 minutes', () => {
  const dir = dataDir();
  const db = openStoreForWriting(storePath(dir));
  const t = Date.now() - 60_000;
  const batch = (n: number, from: number) => insertExec(db, Array.from({ length: n }, (_, i) => ({ time: t + from + i, pid: 5000 + from + i, ppid: 77, uid: 0,
    comm: 'sh', filename: '/usr/bin/dash', cmd: 'sh -c true', parent: { name: 'cron', exe: '/usr/sbin/cron' } })));
  const recentSpawns = new Map<number, number[]>();
  const maxId = () => (db.prepare('SELECT max(id) AS m FROM process_exec').get() as { m: number }).m;
  batch(3, 0);
  const first = loadObservations(db, { from: t, to: Date.now(), execAfter: 0, recentSpawns });
  const cursor = maxId();
  batch(2, 3);
  const second = loadObservations(db, { from: t + 3, to: Date.now(), execAfter: cursor, recentSpawns });
  assert.deepEqual(first.map((o) => o.sibling_spawns_5m), [1, 2, 3]);
  assert.deepEqual(second.map((o) => o.sibling_spawns_5m), [4, 5]);
  // A full load (training) counts the same.
  assert.deepEqual(loadObservations(db, { from: t, to: Date.now() }).map((o) => o.sibling_spawns_5m), [1, 2, 3, 4, 5]);
  db.close();
});
