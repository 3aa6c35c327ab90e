// Detection-relevant events end to end with a real center process and real TLS: rows written into
// an enrolled agent's store reach the center after `daemoneye run --once`, exactly once; only new
// rows are sent later; with the center down the agent keeps its cursor and sends afterwards;
// an agent posting as another is refused and nothing is stored; a batch past the per-agent rate is
// refused and recorded; the center's retention sweep deletes old events.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { api, CenterProcess, cliAsync, enrolWith, rawRequest, startCenter, tlsOf } from '../src/center/testing/center-harness.ts';
import type { Identity } from '../src/center-client/identity.ts';

const work = mkdtempSync(join(tmpdir(), 'de-center-events-'));
const centerDir = join(work, 'center');
const agentDir = join(work, 'agent');
const config = join(work, 'agent.yaml');
let center: CenterProcess;
let agent: Identity;
let other: Identity;
let analyst: Identity;

before(async () => {
  center = await startCenter(centerDir);
  agent = await enrolWith(centerDir, center.url, agentDir);
  other = await enrolWith(centerDir, center.url, join(work, 'other'));
  analyst = await enrolWith(centerDir, center.url, join(work, 'analyst'), 'analyst');
  writeFileSync(config, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n');
});
after(async () => {
  await center.stop();
  rmSync(work, { recursive: true, force: true });
});

const runOnce = async () => {
  const r = await cliAsync(['--config', config, '--data-dir', agentDir, 'run', '--once']);
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
};

let nextPid = 40_000;
/** Rows as the kernel collector writes them (columns per docs/schema.md). */
function addRows(exec: number, security: number, longArgv = false): void {
  const db = new Database(join(agentDir, 'daemoneye.db'));
  const now = Date.now();
  const ins = db.prepare(`INSERT INTO process_exec (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id, comm, filename, argv, command_line, args_truncated)
    VALUES (?, ?, ?, ?, 1, 0, 0, 0, 1, 'curl', '/usr/bin/curl', ?, ?, 0)`);
  const sec = db.prepare(`INSERT INTO process_security_events (time, ktime_ns, op, pid, tid, ppid, user_id, comm, cgroup_id, target_pid, arg0, arg1, name)
    VALUES (?, ?, 'ptrace', ?, ?, 1, 0, 'gdb', 1, 1, 16, 0, '')`);
  db.transaction(() => {
    for (let i = 0; i < exec; i++) {
      const pid = nextPid++;
      const args = ['curl', '-s', longArgv && i === 0 ? `https://x.example/${'a'.repeat(10_000)}` : `https://evil.example/${pid}`];
      ins.run(now, pid * 1000, pid, pid, JSON.stringify(args), args.join(' '));
    }
    for (let i = 0; i < security; i++) {
      const pid = nextPid++;
      sec.run(now, pid * 1000, pid, pid);
    }
  })();
  db.close();
}

const agentRows = () => {
  const db = new Database(join(agentDir, 'daemoneye.db'), { readonly: true });
  const rows = db.prepare(`SELECT 'process_exec' AS kind, id FROM process_exec UNION ALL SELECT 'process_security_events', id FROM process_security_events`).all() as { kind: string; id: number }[];
  db.close();
  return rows.map((r) => `${r.kind}:${r.id}`).sort();
};
const centerRows = (agentId = agent.id) => {
  const db = new Database(join(centerDir, 'center.db'), { readonly: true });
  const rows = db.prepare('SELECT kind, source_id FROM events WHERE agent_id = ?').all(agentId) as { kind: string; source_id: number }[];
  db.close();
  return rows.map((r) => `${r.kind}:${r.source_id}`).sort();
};
const cursors = () => (JSON.parse(readFileSync(join(agentDir, 'center-client.json'), 'utf8')) as { event_cursors: Record<string, number> }).event_cursors;
/** CenterProcess.start waits for "center listening" in its whole log: a restart starts a fresh one. */
const restart = async () => {
  center.log = '';
  await center.start();
};
/** What the agent logged it sent this run, per table. */
const sentIn = (stderr: string) => {
  const total: Record<string, number> = {};
  for (const line of stderr.split('\n').filter((l) => l.includes('events sent to center'))) {
    for (const m of line.matchAll(/ ([a-z_]+)=(\d+)/g)) total[m[1]!] = (total[m[1]!] ?? 0) + Number(m[2]);
  }
  return total;
};

test('run --once sends the store rows, exactly once; a second run sends nothing; new rows only are sent later', async () => {
  await runOnce(); // creates the store
  addRows(5, 3, true);
  const first = await runOnce();
  assert.deepEqual(centerRows(), agentRows());
  assert.ok(centerRows().length >= 8);

  const { events } = await api<{ events: { kind: string; host: string; body: Record<string, unknown> }[] }>(center.url, analyst, 'GET', `/api/v1/events?agent=${agent.id}&kind=process_exec&limit=5000`);
  const execs = agentRows().filter((r) => r.startsWith('process_exec:')).length;
  assert.equal(events.length, execs);
  assert.ok(events.every((e) => e.kind === 'process_exec' && typeof e.body.argv === 'string'));
  const long = events.find((e) => String(e.body.command_line).startsWith('curl -s https://x.example/'))!;
  assert.ok(String(long.body.command_line).length < 5000, 'a long command line is clipped');
  assert.match(String(long.body.command_line), /clipped/);
  assert.ok(Object.values(sentIn(first)).reduce((a, b) => a + b, 0) >= 8);

  const again = await runOnce();
  assert.deepEqual(sentIn(again), {}, 'nothing sent twice');
  assert.deepEqual(centerRows(), agentRows());

  addRows(2, 1);
  const third = await runOnce();
  assert.deepEqual(sentIn(third), { process_exec: 2, process_security_events: 1 });
  assert.deepEqual(centerRows(), agentRows());
  const local = new Database(join(agentDir, 'daemoneye.db'), { readonly: true });
  assert.equal(cursors().process_exec, local.prepare('SELECT max(id) FROM process_exec').pluck().get());
  local.close();
});

test('the center sink narrows the tables and bounds rows per heartbeat; a backlog drains over later runs', async () => {
  const narrow = join(work, 'narrow.yaml');
  writeFileSync(narrow, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n  sinks:\n    - type: center\n      name: center\n'
    + '      events: { tables: [process_exec], max_rows_per_beat: 2 }\n');
  addRows(5, 1);
  const r = await cliAsync(['--config', narrow, '--data-dir', agentDir, 'run', '--once']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(sentIn(r.stderr), { process_exec: 2 }, 'two rows of process_exec only');
  const off = join(work, 'off.yaml');
  writeFileSync(off, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n  sinks:\n    - { type: center, name: center, events: { enabled: false } }\n');
  const o = await cliAsync(['--config', off, '--data-dir', agentDir, 'run', '--once']);
  assert.equal(o.status, 0, o.stderr);
  assert.deepEqual(sentIn(o.stderr), {}, 'turned off: nothing sent');
  assert.deepEqual(sentIn(await runOnce()), { process_exec: 3, process_security_events: 1 });
  assert.deepEqual(centerRows(), agentRows());
});

test('with the center down the cursor stays; the rows are sent when it is back, none lost or doubled', async () => {
  const before = cursors();
  const sentBefore = centerRows();
  await center.stop();
  addRows(3, 2);
  const down = await runOnce();
  assert.match(down, /center heartbeat failed/);
  assert.deepEqual(cursors(), before, 'the cursor moves only on acknowledgement');
  await restart();
  assert.deepEqual(centerRows(), sentBefore);
  const back = await runOnce();
  assert.deepEqual(sentIn(back), { process_exec: 3, process_security_events: 2 });
  assert.deepEqual(centerRows(), agentRows());
});

test('an agent posting events as another agent is refused and nothing is stored', async () => {
  const body = JSON.stringify({ agent_id: agent.id, host: 'forged', events: [{ kind: 'process_exec', source_id: 9_999_999, time: Date.now(), body: { argv: '["forged"]' } }] });
  const r = await rawRequest(center.url, { ...tlsOf(other), method: 'POST', path: '/api/v1/events', body, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 403, r.body);
  assert.deepEqual(centerRows(other.id), []);
  assert.ok(!centerRows().includes('process_exec:9999999'));
  const db = new Database(join(centerDir, 'center.db'), { readonly: true });
  const refused = db.prepare("SELECT count(*) FROM refusals WHERE reason = 'identity_claim_mismatch' AND path = '/api/v1/events' AND identity = ?").pluck().get(other.id);
  db.close();
  assert.equal(refused, 1);
  // An analyst may read events but not post them.
  const analystPost = await rawRequest(center.url, { ...tlsOf(analyst), method: 'POST', path: '/api/v1/events', body, headers: { 'content-type': 'application/json' } });
  assert.equal(analystPost.status, 403);
});

test('a batch past the per-agent rate is refused and recorded; retention deletes old events at the sweep', async () => {
  await center.stop();
  const settingsPath = join(centerDir, 'center.json');
  const settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(settingsPath, JSON.stringify({ ...settings, max_events_per_minute: 3 }));
  const day = 86_400_000;
  const db = new Database(join(centerDir, 'center.db'));
  const ins = db.prepare("INSERT INTO events (agent_id, kind, source_id, time, host, body, received_at) VALUES (?, 'dns_queries', ?, ?, 'h', '{}', ?)");
  ins.run(agent.id, 1, Date.now() - 30 * day, Date.now() - 30 * day);
  ins.run(agent.id, 2, Date.now() - 13 * day, Date.now() - 13 * day);
  db.close();
  await restart(); // the sweep runs at start (and hourly)
  assert.deepEqual(centerRows().filter((r) => r.startsWith('dns_queries:')), ['dns_queries:2'], '30 days old: deleted; 13 days: kept (default 14)');

  const ev = (id: number, time = Date.now()) => ({ kind: 'tls_handshakes', source_id: id, time, body: { server_name: `s${id}.example` } });
  const tooMany = await rawRequest(center.url, { ...tlsOf(other), method: 'POST', path: '/api/v1/events', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: other.id, host: 'other', events: [ev(1), ev(2), ev(3), ev(4)] }) });
  assert.equal(tooMany.status, 429, tooMany.body);
  assert.deepEqual(centerRows(other.id), []);
  const ok = await api<{ stored: number; expired: number }>(center.url, other, 'POST', '/api/v1/events', { agent_id: other.id, host: 'other', events: [ev(1), ev(2), ev(3, Date.now() - 30 * day)] });
  assert.deepEqual({ stored: ok.stored, expired: ok.expired }, { stored: 2, expired: 1 });
  assert.deepEqual(centerRows(other.id), ['tls_handshakes:1', 'tls_handshakes:2']);
  const c = new Database(join(centerDir, 'center.db'), { readonly: true });
  assert.equal(c.prepare("SELECT count(*) FROM refusals WHERE reason = 'event_rate_limited' AND identity = ?").pluck().get(other.id), 1);
  c.close();
  const bad = await rawRequest(center.url, { ...tlsOf(other), method: 'POST', path: '/api/v1/events', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: other.id, host: 'other', events: [{ kind: 'DROP TABLE', source_id: -1, time: 'x', body: [] }] }) });
  assert.equal(bad.status, 400);
});
