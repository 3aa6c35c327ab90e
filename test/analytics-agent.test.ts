// End to end: the real agent (`daemoneye run --once`) with behavioural analysis on, against the real
// /proc and a real store. A model trained by `daemoneye analytics train` scores the processes that
// started between two scans; a planted process (a copy of sleep running from a temp directory) is
// raised as DE-ANOM-0001 with an explanation. With analysis off, the detector is not there at all.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { simulateHost } from '../src/analytics/sim/simulate-host.ts';
import { openStoreForWriting, storePath } from '../src/store/open-store.ts';
import { cli } from './cli-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'de-analytics-agent-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const ON = { DAEMONEYE_ENTERPRISE__ANALYTICS__ENABLE_BEHAVIORAL_ANALYSIS: 'true', DAEMONEYE_ENTERPRISE__ANALYTICS__ENABLE_MACHINE_LEARNING: 'true' };

/** Two simulated days of a web server's kernel execs, ending a minute ago. */
function seed(dataDir: string): void {
  const db = openStoreForWriting(storePath(dataDir));
  const now = Date.now();
  const ins = db.prepare(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id,
    comm, filename, argv, command_line, args_truncated, ancestry) VALUES (?, 0, ?, ?, ?, ?, ?, ?, 0, ?, ?, '[]', ?, 0, ?)`);
  const obs = simulateHost({ role: 'web', seed: 4, startMs: now - 2 * 86_400_000 - 120_000, days: 2, attacks: [] }).filter((o) => o.obs.source === 'exec');
  db.transaction(() => {
    for (const { obs: o } of obs) {
      ins.run(o.start_time, o.pid, o.pid, o.ppid, 0, 0, 0, o.name.slice(0, 15), o.executable_path, o.command_line,
        JSON.stringify([{ pid: o.ppid, name: o.parent_name, exe: o.parent_path }]));
    }
  })();
  db.close();
}

test('the agent scores new processes with the trained model and alerts on a planted one, with its explanation', () => {
  const dataDir = join(work, 'on');
  seed(dataDir);
  const trained = cli(['--data-dir', dataDir, 'analytics', 'train'], ON);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stdout, /trained version 1 on \d+ observations/);
  const first = cli(['--data-dir', dataDir, 'run', '--once'], ON);
  assert.equal(first.status, 0, first.stderr);

  // Between the two scans: a copy of sleep starts from a temp directory.
  const dropDir = join(work, '.cache');
  mkdirSync(dropDir);
  const planted = join(dropDir, 'kswapd0');
  copyFileSync('/bin/sleep', planted);
  const p = spawn(planted, ['600'], { stdio: 'ignore' });
  children.push(p);

  const second = cli(['--data-dir', dataDir, 'run', '--once'], ON);
  assert.equal(second.status, 0, second.stderr);
  const db = new Database(storePath(dataDir), { readonly: true });
  try {
    const rule = db.prepare(`SELECT last_status FROM rules WHERE rule_id = 'DE-ANOM-0001'`).get() as { last_status: string } | undefined;
    assert.equal(rule?.last_status, 'ok');
    const alert = db.prepare(`SELECT summary, evidence FROM alerts WHERE rule_id = 'DE-ANOM-0001' AND pid = ?`).get(p.pid) as { summary: string; evidence: string } | undefined;
    assert.ok(alert, 'the planted process raised DE-ANOM-0001');
    assert.match(alert.summary, /anomalous process .* → kswapd0 \(score (0\.[89]\d|1\.00)\): .*run 0 times in 2 days on this host/);
    const evidence = JSON.parse(alert.evidence) as { model_version: number; ref: string; models: { model: string }[] };
    assert.equal(evidence.model_version, 1);
    assert.match(evidence.ref, /^lifecycle:\d+$/);
    assert.equal(evidence.models.length, 7); // six per-host models and the fleet model (weight 0: no center)
    const score = db.prepare(`SELECT alerted, explanation FROM analytics_scores WHERE pid = ?`).get(p.pid) as { alerted: number; explanation: string };
    assert.equal(score.alerted, 1);
  } finally {
    db.close();
  }
  const listed = cli(['--data-dir', dataDir, 'alerts', 'list', '--rule', 'DE-ANOM-0001', '--format', 'json'], ON);
  assert.equal(listed.status, 0, listed.stderr);
  assert.ok((JSON.parse(listed.stdout) as { pid: number }[]).some((a) => a.pid === p.pid));
});

test('with behavioural analysis off the agent runs no analytics', () => {
  const dataDir = join(work, 'off');
  const r = cli(['--data-dir', dataDir, 'run', '--once'], {});
  assert.equal(r.status, 0, r.stderr);
  const db = new Database(storePath(dataDir), { readonly: true });
  try {
    assert.equal((db.prepare(`SELECT count(*) AS n FROM rules WHERE rule_id = 'DE-ANOM-0001'`).get() as { n: number }).n, 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM analytics_model_versions').get() as { n: number }).n, 0);
  } finally {
    db.close();
  }
});
