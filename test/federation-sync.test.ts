// One primary, two regional centers, an agent under each, all separate processes on loopback with
// real TLS. The primary is SIGKILLed during a burst and stays down (a partition) across several
// sync rounds; a regional center is SIGKILLed too. After restarts every alert any agent raised is
// at the primary exactly once, with its origin (agent) and the region it entered by; the host
// inventory arrived, and an object authored at the primary reached the regions.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { api, CenterProcess, cleanEnv, enrolWith, freePort, initCenterDir, MAIN, stormRule } from '../src/center/testing/center-harness.ts';
import { loadIdentity, type Identity } from '../src/center-client/identity.ts';

const work = mkdtempSync(join(tmpdir(), 'de-fed-'));
const children = new Set<ChildProcess>();
const centers: CenterProcess[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of centers) await c.kill9();
  rmSync(work, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (db: string, sql: string, ...args: unknown[]) => {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).pluck().get(...args) as number;
  } finally {
    d.close();
  }
};

async function newCenter(name: string, configBody?: string): Promise<CenterProcess> {
  const dir = join(work, name);
  const port = await freePort();
  await initCenterDir(dir, port);
  let args: string[] = [];
  if (configBody !== undefined) {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, configBody);
    args = ['--config', file];
  }
  const c = new CenterProcess(dir, port, { args });
  centers.push(c);
  return c;
}

const enrol = (centerDir: string, url: string, dataDir: string, role: 'agent' | 'center' = 'agent'): Promise<Identity> => enrolWith(centerDir, url, dataDir, role);

const admin = (c: CenterProcess) => loadIdentity(join(c.dataDir, 'admin'));
const syncNow = (r: CenterProcess) => api<{ ok: boolean; error?: string }>(r.url, admin(r), 'POST', '/api/v1/federation/sync', {});

function startAgent(dataDir: string, config: string): ChildProcess {
  const a = spawn(process.execPath, [MAIN, '--config', config, '--data-dir', dataDir, 'run', '--interval', '1'], { env: cleanEnv(), stdio: 'ignore' });
  children.add(a);
  a.on('exit', () => children.delete(a));
  return a;
}
async function stopAgent(a: ChildProcess): Promise<void> {
  if (a.exitCode !== null || a.signalCode !== null) return;
  const exited = new Promise((r) => a.once('exit', r));
  a.kill('SIGTERM');
  await exited;
}

test('primary and a region killed, partition across several sync rounds: every alert at the primary exactly once', { timeout: 300_000 }, async () => {
  const primary = await newCenter('primary');
  await primary.start();
  const regionConfig = (policy: string) => `enterprise:\n  federation:\n    enable_federation: true\n    primary_endpoint: ${primary.url}\n    sync_interval: 10\n    conflict_resolution: ${policy}\n    batch_size: 50\n`;
  const regions = [await newCenter('region-1', regionConfig('primary_wins')), await newCenter('region-2', regionConfig('primary_wins'))];
  const regionIds: string[] = [];
  for (const r of regions) {
    regionIds.push((await enrol(primary.dataDir, primary.url, r.dataDir, 'center')).id);
    await r.start();
  }
  assert.match(regions[0]!.log, /role="regional"/);

  const rules = join(work, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'storm.yaml'), stormRule(20));
  const sink = `  stdout: { enabled: false }\n  jsonl_file: { enabled: false }\n  sinks:\n    - type: center\n      timeout_ms: 2000\n      max_attempts: 1000\n`;
  const burst = join(work, 'burst.yaml');
  writeFileSync(burst, `detection:\n  builtin_rules: false\n  rule_dirs: [${rules}]\nalerting:\n${sink}`);
  const quiet = join(work, 'quiet.yaml');
  writeFileSync(quiet, `detection:\n  builtin_rules: false\nalerting:\n${sink}`);
  const agentDirs = [join(work, 'agent-1'), join(work, 'agent-2')];
  const agentIds: string[] = [];
  for (let i = 0; i < 2; i++) agentIds.push((await enrol(regions[i]!.dataDir, regions[i]!.url, agentDirs[i]!)).id);
  let agents = agentDirs.map((d) => startAgent(d, burst));

  const primaryDb = join(primary.dataDir, 'center.db');
  const deadline = Date.now() + 90_000;
  while (count(primaryDb, 'SELECT count(*) FROM alerts') < 100) {
    assert.ok(Date.now() < deadline, 'alerts should reach the primary');
    await Promise.all(regions.map((r) => syncNow(r)));
    await sleep(500);
  }

  // The primary dies mid-burst and stays away across three sync rounds of each region.
  await primary.kill9();
  for (let i = 0; i < 3; i++) {
    for (const r of regions) assert.equal((await syncNow(r)).ok, false, 'the primary is unreachable: the round fails, the region keeps working');
    await sleep(500);
  }
  // A regional center dies too; its agent keeps its alerts in its outbox meanwhile.
  await regions[0]!.kill9();
  await sleep(1_500);
  await regions[0]!.start();
  await primary.start();

  await Promise.all(agents.map(stopAgent));
  agents = agentDirs.map((d) => startAgent(d, quiet));
  const pending = () => agentDirs.reduce((n, d) => n + count(join(d, 'daemoneye.db'), "SELECT count(*) FROM alert_outbox WHERE sink = 'center'"), 0);
  const raised = () => agentDirs.reduce((n, d) => n + count(join(d, 'daemoneye.db'), 'SELECT count(*) FROM alerts'), 0);
  const until = Date.now() + 150_000;
  while (pending() > 0 || count(primaryDb, 'SELECT count(*) FROM alerts') < raised()) {
    assert.ok(Date.now() < until, `convergence: ${pending()} in agent outboxes, ${count(primaryDb, 'SELECT count(*) FROM alerts')} of ${raised()} at the primary`);
    await Promise.all(regions.map((r) => syncNow(r)));
    await sleep(500);
  }
  await Promise.all(agents.map(stopAgent));

  const db = new Database(primaryDb, { readonly: true });
  const atPrimary = db.prepare('SELECT origin, origin_seq, alert_uuid, center_id FROM alerts').all() as { origin: string; origin_seq: number; alert_uuid: string; center_id: string }[];
  const hosts = db.prepare("SELECT id, center_id FROM identities WHERE role = 'agent'").all() as { id: string; center_id: string }[];
  db.close();
  let total = 0;
  for (let i = 0; i < 2; i++) {
    const local = new Database(join(agentDirs[i]!, 'daemoneye.db'), { readonly: true });
    const mine = local.prepare('SELECT alert_id, alert_uuid FROM alerts ORDER BY alert_id').all() as { alert_id: number; alert_uuid: string }[];
    local.close();
    total += mine.length;
    const there = atPrimary.filter((a) => a.origin === agentIds[i]).sort((a, b) => a.origin_seq - b.origin_seq);
    assert.deepEqual(there.map((a) => [a.origin_seq, a.alert_uuid]), mine.map((m) => [m.alert_id, m.alert_uuid]), `agent ${i + 1}: every alert exactly once`);
    assert.ok(there.every((a) => a.center_id === regionIds[i]), 'each alert names the region it entered by');
    assert.ok(hosts.some((h) => h.id === agentIds[i] && h.center_id === regionIds[i]), 'host inventory reached the primary');
  }
  assert.equal(atPrimary.length, total);

  // An object authored at the primary is pulled by the regions.
  await api(primary.url, admin(primary), 'PUT', '/api/v1/objects/rule/TEST-FED-1', { body: { yaml: 'id: TEST-FED-1' } });
  for (const r of regions) {
    assert.ok((await syncNow(r)).ok);
    const got = await api<{ rules: { id: string }[] }>(r.url, admin(r), 'GET', '/api/v1/rules');
    assert.deepEqual(got.rules.map((x) => x.id), ['TEST-FED-1']);
  }
  const status = await api<{ role: string; cursors: unknown[]; last_sync: { ok: boolean } }>(regions[1]!.url, admin(regions[1]!), 'GET', '/api/v1/federation/status');
  assert.equal(status.role, 'regional');
  assert.equal(status.last_sync.ok, true);
});
