// An agent whose center is down keeps detecting; its center outbox is bounded (max_outbox), what
// it sheds is counted, and when the center returns the outbox replays and the heartbeat reports
// the shed count. Shed alerts stay in the agent's own store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { CenterProcess, cleanEnv, cliAsync, enrolWith, MAIN, startCenter, stormRule } from '../src/center/testing/center-harness.ts';
import { loadIdentity } from '../src/center-client/identity.ts';

const work = mkdtempSync(join(tmpdir(), 'de-center-outbox-'));
let center: CenterProcess | undefined;
after(async () => {
  await center?.stop();
  rmSync(work, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = <T>(path: string, sql: string, ...args: unknown[]): T => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().get(...args) as T;
  } finally {
    db.close();
  }
};

test('center down: detection goes on, the outbox stays within max_outbox, the shed count reaches the center', { timeout: 180_000 }, async () => {
  const centerDir = join(work, 'center');
  center = await startCenter(centerDir);
  const agentDir = join(work, 'agent');
  await enrolWith(centerDir, center.url, agentDir);
  await center.stop();

  const rules = join(work, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'storm.yaml'), stormRule(40));
  const sink = `  stdout: { enabled: false }\n  jsonl_file: { enabled: false }\n  sinks:\n    - type: center\n      max_outbox: 100\n      timeout_ms: 2000\n`;
  const burst = join(work, 'burst.yaml');
  writeFileSync(burst, `detection:\n  builtin_rules: false\n  rule_dirs: [${rules}]\nalerting:\n${sink}`);
  for (let i = 0; i < 3; i++) {
    const r = await cliAsync(['--config', burst, '--data-dir', agentDir, 'run', '--once']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /center heartbeat failed/, 'the agent says the center is unreachable, and goes on');
  }
  const db = join(agentDir, 'daemoneye.db');
  assert.equal(q<number>(db, 'SELECT count(*) FROM alerts'), 120, 'detection went on while the center was down');
  assert.equal(q<number>(db, "SELECT count(*) FROM alert_outbox WHERE sink = 'center'"), 100);
  assert.equal((JSON.parse(readFileSync(join(agentDir, 'center-client.json'), 'utf8')) as { shed_alerts: number }).shed_alerts, 20);

  await center.start();
  const quiet = join(work, 'quiet.yaml');
  writeFileSync(quiet, `detection:\n  builtin_rules: false\nalerting:\n${sink}`);
  const agent = spawn(process.execPath, [MAIN, '--config', quiet, '--data-dir', agentDir, 'run', '--interval', '1'], { env: cleanEnv(), stdio: 'ignore' });
  const centerDb = join(centerDir, 'center.db');
  const id = loadIdentity(join(agentDir, 'identity')).id;
  const until = Date.now() + 90_000;
  while (q<number>(db, "SELECT count(*) FROM alert_outbox WHERE sink = 'center'") > 0 || q<number | null>(centerDb, 'SELECT shed_alerts FROM identities WHERE id = ?', id) !== 20) {
    assert.ok(Date.now() < until, 'the outbox should replay and the heartbeat report the shed count');
    await sleep(500);
  }
  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  await exited;
  assert.equal(q<number>(centerDb, 'SELECT count(*) FROM alerts WHERE origin = ?', id), 100);
  // The shed ones were the oldest (all alerts have one severity here).
  assert.equal(q<number>(centerDb, 'SELECT min(origin_seq) FROM alerts WHERE origin = ?', id), 21);
});
