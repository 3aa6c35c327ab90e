// Enrolment end to end with real processes and real TLS: `center init`, `center`, `center token`,
// `enroll`, then `daemoneye run --once` reports alerts and a heartbeat with no configuration, and
// `alerts list --center` reads them back. Tokens are single-use and expire; a token pinned to
// another CA is refused before anything is sent. Certificates rotate without losing alerts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { CenterProcess, cli, cliAsync, freePort, stormRule } from '../src/center/testing/center-harness.ts';
import { loadIdentity } from '../src/center-client/identity.ts';
import { renew } from '../src/center-client/enroll.ts';
import { CenterHttp } from '../src/center-client/center-http.ts';

const work = mkdtempSync(join(tmpdir(), 'de-center-enrol-'));
const centerDir = join(work, 'center');
let center: CenterProcess;

before(async () => {
  const port = await freePort();
  const init = cli(['--data-dir', centerDir, 'center', 'init', '--listen', `127.0.0.1:${port}`]);
  assert.equal(init.status, 0, init.stderr);
  center = new CenterProcess(centerDir, port);
  await center.start();
});
after(async () => {
  await center.stop();
  rmSync(work, { recursive: true, force: true });
});

const token = (role = 'agent') => {
  const r = cli(['--data-dir', centerDir, 'center', 'token', '--role', role]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^de1\.[0-9a-f]{12}\.[A-Za-z0-9_-]{32}\.[0-9a-f]{64}\n$/, 'the token alone on stdout');
  return r.stdout.trim();
};
const centerDb = () => new Database(join(centerDir, 'center.db'), { readonly: true });

test('center init: CA and keys written, private keys 0600, a second init refused', () => {
  for (const f of ['pki/ca-key.pem', 'pki/server-key.pem', 'admin/key.pem']) assert.equal(statSync(join(centerDir, f)).mode & 0o777, 0o600, f);
  const again = cli(['--data-dir', centerDir, 'center', 'init']);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /DE_CENTER_EXISTS/);
});

test('enrol, run --once with no configuration, alerts and heartbeat reach the center, alerts list --center reads them', async () => {
  const agentDir = join(work, 'agent');
  const enrolled = await cliAsync(['--data-dir', agentDir, 'enroll', '--center', center.url, '--token', token()]);
  assert.equal(enrolled.status, 0, enrolled.stderr);
  const id = loadIdentity(join(agentDir, 'identity'));
  assert.equal(id.role, 'agent');
  assert.equal(statSync(join(agentDir, 'identity', 'key.pem')).mode & 0o777, 0o600);

  const rules = join(work, 'rules');
  mkdirSync(rules, { recursive: true });
  writeFileSync(join(rules, 'storm.yaml'), stormRule(7));
  const config = join(work, 'agent.yaml');
  writeFileSync(config, `detection:\n  builtin_rules: false\n  rule_dirs: [${rules}]\nalerting:\n  stdout: { enabled: false }\n`);
  // Twice: the first run's clean stop signs an audit checkpoint, which the second run's heartbeat carries.
  for (let i = 0; i < 2; i++) {
    const run = await cliAsync(['--config', config, '--data-dir', agentDir, 'run', '--once']);
    assert.equal(run.status, 0, run.stderr);
  }

  const local = new Database(join(agentDir, 'daemoneye.db'), { readonly: true });
  const localUuids = (local.prepare('SELECT alert_uuid FROM alerts ORDER BY alert_id').pluck().all() as string[]);
  local.close();
  assert.equal(localUuids.length, 14);
  const db = centerDb();
  const stored = db.prepare('SELECT alert_uuid, origin FROM alerts ORDER BY origin_seq').all() as { alert_uuid: string; origin: string }[];
  const host = db.prepare('SELECT name, last_seen_at, outbox_pending FROM identities WHERE id = ?').get(id.id) as { name: string; last_seen_at: number | null; outbox_pending: number };
  const checkpoints = db.prepare('SELECT count(*) FROM audit_checkpoints WHERE origin = ?').pluck().get(id.id);
  db.close();
  assert.deepEqual(stored.map((s) => s.alert_uuid), localUuids);
  assert.ok(stored.every((s) => s.origin === id.id), 'the origin is the certificate identity');
  assert.notEqual(host.last_seen_at, null, 'heartbeat recorded');
  assert.equal(host.outbox_pending, 0);
  assert.ok(Number(checkpoints) >= 1, 'the latest signed audit checkpoint came with the heartbeat');

  const listed = await cliAsync(['--data-dir', centerDir, 'alerts', 'list', '--center', center.url, '--format', 'json', '--search', 'finding 3']);
  assert.equal(listed.status, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as { origin: string; summary: string }[];
  assert.equal(rows.length, 2, 'finding 3 of each of the two scans');
  assert.ok(rows.every((r) => /finding 3 of scan/.test(r.summary)));

  // An agent identity is not an analyst: it cannot read the fleet's alerts.
  const http = CenterHttp.forIdentity(id, center.url);
  const r = await http.send('GET', '/api/v1/alerts');
  http.close();
  assert.equal(r.status, 403);
});

test('a token is single-use: the second enrolment with it is refused and logged', async () => {
  const t = token();
  const first = await cliAsync(['--data-dir', join(work, 'once-a'), 'enroll', '--center', center.url, '--token', t]);
  assert.equal(first.status, 0, first.stderr);
  const second = await cliAsync(['--data-dir', join(work, 'once-b'), 'enroll', '--center', center.url, '--token', t]);
  assert.equal(second.status, 2);
  assert.match(second.stderr, /DE_ENROLL_TOKEN/);
  await center.waitForLog(/request refused reason="token_used"/);
});

test('an expired token is refused; a token naming another CA is refused before contacting the enrol endpoint', async () => {
  const t = token();
  const db = new Database(join(centerDir, 'center.db'));
  db.prepare('UPDATE enrollment_tokens SET expires_at = 1 WHERE token_id = ?').run(t.split('.')[1]);
  db.close();
  const expired = await cliAsync(['--data-dir', join(work, 'late'), 'enroll', '--center', center.url, '--token', t]);
  assert.equal(expired.status, 2);
  await center.waitForLog(/reason="token_expired"/);

  const other = token().replace(/\.[0-9a-f]{64}$/, `.${'ab'.repeat(32)}`);
  const pinned = await cliAsync(['--data-dir', join(work, 'mitm'), 'enroll', '--center', center.url, '--token', other]);
  assert.equal(pinned.status, 2);
  assert.match(pinned.stderr, /DE_ENROLL_PIN/);
  const garbage = await cliAsync(['--data-dir', join(work, 'garbage'), 'enroll', '--center', center.url, '--token', 'not-a-token']);
  assert.match(garbage.stderr, /DE_ENROLL_TOKEN/);
});

test('certificate rotation: a new key and certificate, the same identity, the old certificate still accepted until it expires', async () => {
  const dir = join(work, 'rotate');
  assert.equal((await cliAsync(['--data-dir', dir, 'enroll', '--center', center.url, '--token', token()])).status, 0);
  const before = loadIdentity(join(dir, 'identity'));
  const after = await renew(before);
  assert.equal(after.id, before.id);
  assert.notEqual(after.certPem, before.certPem);
  assert.notEqual(after.keyPem, before.keyPem);
  assert.equal(readFileSync(join(dir, 'identity', 'cert.pem'), 'utf8'), after.certPem);
  for (const who of [before, after]) {
    const http = CenterHttp.forIdentity(who, center.url);
    const r = await http.send('POST', '/api/v1/heartbeat', { agent_id: who.id, host: 'h', version: 'x', outbox_pending: 0, shed_alerts: 0 });
    http.close();
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
});

test('a rule authored at the center is pulled by the agent, loaded at its next start, and its alerts come back', async () => {
  const agentDir = join(work, 'pull-agent');
  assert.equal((await cliAsync(['--data-dir', agentDir, 'enroll', '--center', center.url, '--token', token()])).status, 0);
  const admin = loadIdentity(join(centerDir, 'admin'));
  const http = CenterHttp.forIdentity(admin, center.url);
  const yaml = stormRule(3).replace('TEST-CENTER-STORM', 'TEST-CENTER-PULLED');
  await http.json('PUT', '/api/v1/objects/rule/TEST-CENTER-PULLED', { body: { yaml } });
  http.close();
  const config = join(work, 'no-rules.yaml');
  writeFileSync(config, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n');
  const first = await cliAsync(['--config', config, '--data-dir', agentDir, 'run', '--once']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /pulled from center objects=1/);
  assert.equal(readFileSync(join(agentDir, 'center-rules', 'TEST-CENTER-PULLED.yaml'), 'utf8'), yaml);
  const second = await cliAsync(['--config', config, '--data-dir', agentDir, 'run', '--once']);
  assert.equal(second.status, 0, second.stderr);
  const db = centerDb();
  const n = db.prepare("SELECT count(*) FROM alerts WHERE rule_id = 'TEST-CENTER-PULLED'").pluck().get();
  db.close();
  assert.equal(n, 3);
});

test('a rule authored at the center while the agent runs takes effect without a restart', async (t) => {
  const { spawn } = await import('node:child_process');
  const { MAIN, cleanEnv } = await import('./cli-helpers.ts');
  const agentDir = join(work, 'live-agent');
  assert.equal((await cliAsync(['--data-dir', agentDir, 'enroll', '--center', center.url, '--token', token()])).status, 0);
  const config = join(work, 'live-no-rules.yaml');
  writeFileSync(config, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n');
  const agent = spawn(process.execPath, [MAIN, '--config', config, '--data-dir', agentDir, 'run', '--interval', '2'], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => agent.kill('SIGKILL'));
  let log = '';
  agent.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  for (let i = 0; i < 200 && !log.includes(' cycle '); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(log, / cycle /, 'the agent is running with no rules');

  const admin = loadIdentity(join(centerDir, 'admin'));
  const http = CenterHttp.forIdentity(admin, center.url);
  await http.json('PUT', '/api/v1/objects/rule/TEST-CENTER-LIVE', { body: { yaml: stormRule(2).replace('TEST-CENTER-STORM', 'TEST-CENTER-LIVE') } });
  http.close();
  let n = 0;
  for (let i = 0; i < 300 && n === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const db = centerDb();
    n = db.prepare("SELECT count(*) FROM alerts WHERE rule_id = 'TEST-CENTER-LIVE'").pluck().get() as number;
    db.close();
  }
  assert.ok(n > 0, `alerts of the new rule reached the center; agent log: ${log.slice(-1500)}`);
  assert.match(log, /rules reloaded rules=\d+ rejected_rules=0 reason="pulled from the security center"/);
  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  await exited;
});
