// Fleet rarity end to end with real processes and real TLS: a `daemoneye center` and two enrolled
// agents whose stores hold two simulated days of different host roles (a web server, a database
// server). Each agent trains (`daemoneye analytics train`) and runs once (`daemoneye run --once`):
// its heartbeat reports its executable path hashes and fetches the fleet view. The center's host
// count per path is exactly the two agents' reports added up; each agent's view is the other's
// paths on 1 other host; a retrain takes the view in and `analytics status` says the fleet is too
// small for the model to weigh in (1 other host, 3 needed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { CenterProcess, cli, cliAsync, rawRequest, startCenter } from '../src/center/testing/center-harness.ts';
import { loadIdentity } from '../src/center-client/identity.ts';
import { AnalyticsDetector } from '../src/analytics/detect/analytics-detector.ts';
import { readFleetView, type FleetView } from '../src/analytics/fleet/fleet-view.ts';
import { hostPathSummary, type PathSummary } from '../src/analytics/fleet/path-summary.ts';
import { simulateHost } from '../src/analytics/sim/simulate-host.ts';
import type { Role } from '../src/analytics/sim/host-roles.ts';
import { openStoreForWriting, openStoreReadOnly, storePath } from '../src/store/open-store.ts';

const work = mkdtempSync(join(tmpdir(), 'de-analytics-fleet-'));
const centerDir = join(work, 'center');
let center: CenterProcess;

const ON = { DAEMONEYE_ENTERPRISE__ANALYTICS__ENABLE_BEHAVIORAL_ANALYSIS: 'true', DAEMONEYE_ENTERPRISE__ANALYTICS__ENABLE_MACHINE_LEARNING: 'false' };

before(async () => {
  center = await startCenter(centerDir);
});
after(async () => {
  await center.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Two simulated days of one host role's kernel execs, ending two minutes ago. */
function seed(dataDir: string, role: Role, seedN: number): void {
  const db = openStoreForWriting(storePath(dataDir));
  const now = Date.now();
  const ins = db.prepare(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id,
    comm, filename, argv, command_line, args_truncated, ancestry) VALUES (?, 0, ?, ?, ?, ?, ?, ?, 0, ?, ?, '[]', ?, 0, ?)`);
  const obs = simulateHost({ role, seed: seedN, startMs: now - 2 * 86_400_000 - 120_000, days: 2, attacks: [] }).filter((o) => o.obs.source === 'exec');
  db.transaction(() => {
    for (const { obs: o } of obs) {
      ins.run(o.start_time, o.pid, o.pid, o.ppid, 0, 0, 0, o.name.slice(0, 15), o.executable_path, o.command_line,
        JSON.stringify([{ pid: o.ppid, name: o.parent_name, exe: o.parent_path }]));
    }
  })();
  db.close();
}

interface Agent { dir: string; id: string; config: string }

async function enrolAndTrain(name: string, role: Role, seedN: number): Promise<Agent> {
  const dir = join(work, name);
  const token = cli(['--data-dir', centerDir, 'center', 'token', '--role', 'agent']);
  assert.equal(token.status, 0, token.stderr);
  const enrolled = await cliAsync(['--data-dir', dir, 'enroll', '--center', center.url, '--token', token.stdout.trim()]);
  assert.equal(enrolled.status, 0, enrolled.stderr);
  seed(dir, role, seedN);
  const trained = await cliAsync(['--data-dir', dir, 'analytics', 'train'], ON);
  assert.equal(trained.status, 0, trained.stderr);
  const config = join(work, `${name}.yaml`);
  writeFileSync(config, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n');
  return { dir, id: loadIdentity(join(dir, 'identity')).id, config };
}

async function runOnce(a: Agent): Promise<void> {
  const run = await cliAsync(['--config', a.config, '--data-dir', a.dir, 'run', '--once'], ON);
  assert.equal(run.status, 0, run.stderr);
}

function readAgent(a: Agent): { summary: PathSummary; view: FleetView | null } {
  const db = openStoreReadOnly(storePath(a.dir));
  try {
    return { summary: hostPathSummary(db)!, view: readFleetView(db) };
  } finally {
    db.close();
  }
}

test('the center counts hosts per path from two agents\' reports; each agent receives the other\'s paths; the model takes the view in', async () => {
  const web = await enrolAndTrain('web', 'web', 4);
  const db = await enrolAndTrain('db', 'db', 5);

  await runOnce(web); // reports; the fleet has no other host yet
  const first = readAgent(web);
  assert.ok(first.view !== null, 'a view, even an empty one, once the center answered');
  assert.equal(first.view.hosts, 0);
  assert.deepEqual(first.view.paths, {});

  await runOnce(db); // reports; sees the web server
  await runOnce(web); // already reported this version; fetches the view that now has the database server

  const w = readAgent(web);
  const d = readAgent(db);
  assert.ok(w.summary.paths.length >= 5 && d.summary.paths.length >= 5, 'both hosts have paths to report');

  // The center: per path hash, the number of distinct hosts that reported it (both agents' reports added up).
  const expected = new Map<string, number>();
  for (const s of [w.summary, d.summary]) for (const p of s.paths) expected.set(p.h, (expected.get(p.h) ?? 0) + 1);
  const cdb = new Database(join(centerDir, 'center.db'), { readonly: true });
  const counted = cdb.prepare('SELECT path_hash AS h, count(DISTINCT agent_id) AS hosts FROM fleet_path_hosts GROUP BY path_hash').all() as { h: string; hosts: number }[];
  const reporters = cdb.prepare('SELECT agent_id FROM fleet_path_reports ORDER BY agent_id').pluck().all() as string[];
  const stored = cdb.prepare('SELECT agent_id, path_hash, days, runs FROM fleet_path_hosts WHERE agent_id = ?').all(web.id) as { path_hash: string; days: number; runs: number }[];
  cdb.close();
  assert.deepEqual(reporters, [web.id, db.id].sort());
  assert.deepEqual(new Map(counted.map((r) => [r.h, r.hosts])), expected);
  const shared = [...expected.values()].filter((n) => n === 2).length;
  assert.ok(shared >= 1 && shared < expected.size, `some paths on both hosts (${shared}), some on one (${expected.size - shared})`);
  // Days and runs arrive as the agent's model counted them.
  assert.deepEqual(new Map(stored.map((r) => [r.path_hash, [r.days, r.runs]])), new Map(w.summary.paths.map((p) => [p.h, [p.days, p.runs]])));

  // Each agent's view: the OTHER host's paths, each on 1 other host.
  assert.equal(w.view!.hosts, 1);
  assert.deepEqual(w.view!.paths, Object.fromEntries(d.summary.paths.map((p) => [p.h, 1])));
  assert.equal(d.view!.hosts, 1);
  assert.deepEqual(d.view!.paths, Object.fromEntries(w.summary.paths.map((p) => [p.h, 1])));
  assert.ok(w.view!.revision > first.view.revision);

  // The running agent's detector applies a newer view to the active version without retraining,
  // and the version's model list (what `analytics status` shows) follows.
  const detector = new AnalyticsDetector({ dbPath: storePath(web.dir), threshold: 0.8, windowDays: 14, updateInterval: 86_400, autoTrain: false });
  try {
    assert.equal(detector.refreshFleetView(), true);
    assert.equal(detector.refreshFleetView(), false, 'the same view is applied once');
  } finally {
    await detector.close();
  }
  const sdb = openStoreReadOnly(storePath(web.dir));
  const listed = JSON.parse((sdb.prepare(`SELECT models FROM analytics_model_versions WHERE status = 'active'`).get() as { models: string }).models) as { name: string; note: string }[];
  sdb.close();
  assert.match(listed.find((m) => m.name === 'fleet_rarity:executable_path')!.note, /covers 1 other host/);

  // A retrain takes the view in; with 1 other host the fleet model is weighted 0 and says why.
  const retrained = await cliAsync(['--data-dir', web.dir, 'analytics', 'train'], ON);
  assert.equal(retrained.status, 0, retrained.stderr);
  const status = await cliAsync(['--data-dir', web.dir, 'analytics', 'status', '--format', 'json'], ON);
  assert.equal(status.status, 0, status.stderr);
  const fleetModel = (JSON.parse(status.stdout) as { models: { name: string; weight: number; note: string; params: { fleet_hosts: number } }[] })
    .models.find((m) => m.name === 'fleet_rarity:executable_path');
  assert.ok(fleetModel, 'the fleet model is listed');
  assert.equal(fleetModel.weight, 0);
  assert.equal(fleetModel.params.fleet_hosts, 1);
  assert.match(fleetModel.note, /the fleet view covers 1 other host; fleet rarity needs 3/);
});

test('hostile reports are refused with nothing stored: another host\'s id, bad hashes, too many paths, not JSON', async () => {
  const a = await enrolAndTrain('hostile', 'ci', 6);
  const me = loadIdentity(join(a.dir, 'identity'));
  const tls = { ca: me.caPem, cert: me.certPem, key: me.keyPem };
  const post = (body: string) => rawRequest(center.url, { ...tls, method: 'POST', path: '/api/v1/analytics/fleet-paths', body });
  const good = { agent_id: me.id, window_days: 14, paths: [{ h: '0123456789abcdef', days: 3, runs: 9 }] };
  const cases: [string, number][] = [
    [JSON.stringify({ ...good, agent_id: 'someone-else' }), 403],
    [JSON.stringify({ ...good, paths: [{ h: '../../etc/passwd', days: 1, runs: 1 }] }), 400],
    [JSON.stringify({ ...good, paths: [{ h: '0123456789ABCDEF', days: 1, runs: 1 }] }), 400],
    [JSON.stringify({ ...good, paths: [{ h: '0123456789abcdef', days: -1, runs: 1 }] }), 400],
    [JSON.stringify({ ...good, paths: Array.from({ length: 5001 }, (_, i) => ({ h: i.toString(16).padStart(16, '0'), days: 1, runs: 1 })) }), 400],
    [JSON.stringify({ ...good, extra: 1 }), 400],
    ['{"agent_id": ', 400],
  ];
  for (const [body, status] of cases) assert.equal((await post(body)).status, status, body.slice(0, 80));
  const cdb = new Database(join(centerDir, 'center.db'), { readonly: true });
  assert.equal(cdb.prepare('SELECT count(*) FROM fleet_path_hosts WHERE agent_id = ?').pluck().get(me.id), 0, 'nothing stored');
  const refusals = cdb.prepare(`SELECT reason FROM refusals WHERE path = '/api/v1/analytics/fleet-paths'`).pluck().all() as string[];
  cdb.close();
  assert.ok(refusals.includes('identity_claim_mismatch') && refusals.includes('malformed_fleet_paths'), refusals.join(','));
  // A good report with a repeated hash stores it once; without a certificate, the route refuses.
  const ok = await post(JSON.stringify({ ...good, paths: [good.paths[0], good.paths[0]] }));
  assert.equal(ok.status, 200, ok.body);
  assert.equal((JSON.parse(ok.body) as { stored: number }).stored, 1);
  const anonymous = await rawRequest(center.url, { ca: me.caPem, path: '/api/v1/analytics/fleet-paths' });
  assert.equal(anonymous.status, 401);
});
