// The center is SIGKILLed during a burst of alerts from two agents (separate processes, real TLS)
// and restarted on the same port. The agents keep detecting while it is down and replay from their
// durable outboxes; at the end every alert each agent raised is at the center exactly once, with
// its origin (the agent's certificate identity) and its sequence.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { CenterProcess, cleanEnv, enrolWith, MAIN, startCenter, stormRule } from '../src/center/testing/center-harness.ts';
import { loadIdentity } from '../src/center-client/identity.ts';

const work = mkdtempSync(join(tmpdir(), 'de-center-crash-'));
const agents = new Set<ChildProcess>();
let center: CenterProcess | undefined;
after(async () => {
  for (const a of agents) a.kill('SIGKILL');
  await center?.kill9();
  rmSync(work, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startAgent(dataDir: string, config: string): ChildProcess {
  const a = spawn(process.execPath, [MAIN, '--config', config, '--data-dir', dataDir, 'run', '--interval', '1'], { env: cleanEnv(), stdio: 'ignore' });
  agents.add(a);
  a.on('exit', () => agents.delete(a));
  return a;
}

async function stopAgent(a: ChildProcess): Promise<void> {
  if (a.exitCode !== null || a.signalCode !== null) return;
  const exited = new Promise((r) => a.once('exit', r));
  a.kill('SIGTERM');
  await exited;
}

function read<T>(path: string, f: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return f(db);
  } finally {
    db.close();
  }
}

test('kill -9 the center during a burst: every alert present exactly once after restart', { timeout: 240_000 }, async () => {
  const centerDir = join(work, 'center');
  center = await startCenter(centerDir);
  const centerDb = join(centerDir, 'center.db');

  const rules = join(work, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'storm.yaml'), stormRule(40));
  const sink = `  sinks:\n    - type: center\n      timeout_ms: 2000\n      max_attempts: 1000\n      batch_size: 200\n`;
  const burst = join(work, 'burst.yaml');
  writeFileSync(burst, `detection:\n  builtin_rules: false\n  rule_dirs: [${rules}]\nalerting:\n  stdout: { enabled: false }\n  jsonl_file: { enabled: false }\n${sink}`);
  const quiet = join(work, 'quiet.yaml');
  writeFileSync(quiet, `detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n  jsonl_file: { enabled: false }\n${sink}`);

  const dirs = [join(work, 'agent-1'), join(work, 'agent-2')];
  for (const d of dirs) await enrolWith(centerDir, center.url, d);
  let running = dirs.map((d) => startAgent(d, burst));

  // The burst is flowing when the center dies.
  const deadline = Date.now() + 90_000;
  while (read(centerDb, (db) => db.prepare('SELECT count(*) FROM alerts').pluck().get() as number) < 150) {
    assert.ok(Date.now() < deadline, 'alerts should be arriving');
    await sleep(200);
  }
  await center.kill9();
  await sleep(2_000); // agents keep detecting; their alerts wait in the outbox
  await center.start();
  await sleep(2_000);

  // No new alerts from here on: the agents restart without the storm rule and only replay.
  await Promise.all(running.map(stopAgent));
  running = dirs.map((d) => startAgent(d, quiet));
  const pending = () => dirs.reduce((n, d) => n + read(join(d, 'daemoneye.db'), (db) =>
    db.prepare("SELECT count(*) FROM alert_outbox WHERE sink = 'center'").pluck().get() as number), 0);
  const until = Date.now() + 120_000;
  while (pending() > 0) {
    assert.ok(Date.now() < until, `outboxes should drain (${pending()} left)`);
    await sleep(500);
  }
  await Promise.all(running.map(stopAgent));
  await center.stop();

  const atCenter = read(centerDb, (db) => db.prepare('SELECT origin, origin_seq, alert_uuid FROM alerts').all() as { origin: string; origin_seq: number; alert_uuid: string }[]);
  let raised = 0;
  for (const d of dirs) {
    const id = loadIdentity(join(d, 'identity')).id;
    const local = read(join(d, 'daemoneye.db'), (db) => db.prepare('SELECT alert_id, alert_uuid FROM alerts ORDER BY alert_id').all() as { alert_id: number; alert_uuid: string }[]);
    const dead = read(join(d, 'daemoneye.db'), (db) => db.prepare("SELECT count(*) FROM alert_dead_letters WHERE sink = 'center'").pluck().get() as number);
    assert.equal(dead, 0, 'nothing dead-lettered');
    raised += local.length;
    const mine = atCenter.filter((a) => a.origin === id).sort((a, b) => a.origin_seq - b.origin_seq);
    assert.deepEqual(mine.map((a) => [a.origin_seq, a.alert_uuid]), local.map((l) => [l.alert_id, l.alert_uuid]), `agent ${id}: every alert exactly once`);
  }
  assert.equal(atCenter.length, raised, 'no alert twice, none from elsewhere');
  assert.equal(new Set(atCenter.map((a) => a.alert_uuid)).size, atCenter.length);
  assert.ok(raised > 150);
});
