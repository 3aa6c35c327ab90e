// Fleet queries: an analyst asks every live agent a read-only SQL question; agents take it with
// their heartbeat, run it in a sandbox with a time budget and post their rows; the merged answer
// is marked partial when an agent alive at asking time did not answer by the deadline. A runaway
// query is stopped on the agent; a write is refused at the center before any agent sees it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { api, CenterProcess, cliAsync, enrolWith, rawRequest, startCenter, tlsOf } from '../src/center/testing/center-harness.ts';
import { loadIdentity, type Identity } from '../src/center-client/identity.ts';

const work = mkdtempSync(join(tmpdir(), 'de-center-query-'));
let center: CenterProcess;
let admin: Identity;
const agents: { dir: string; id: Identity }[] = [];
const config = join(work, 'agent.yaml');

before(async () => {
  center = await startCenter(join(work, 'center'));
  admin = loadIdentity(join(work, 'center', 'admin'));
  writeFileSync(config, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n');
  for (const name of ['agent-1', 'agent-2']) {
    const dir = join(work, name);
    agents.push({ dir, id: await enrolWith(center.dataDir, center.url, dir) });
    await runOnce(dir); // first heartbeat: the agent is alive
  }
});
after(async () => {
  await center.stop();
  rmSync(work, { recursive: true, force: true });
});

async function runOnce(dir: string): Promise<string> {
  const r = await cliAsync(['--config', config, '--data-dir', dir, 'run', '--once']);
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

type Answer = { state: string; partial: boolean; expected_agents: number; missing_agents: string[]; answers: { agent_id: string; rows: { n: number }[]; error: string | null }[] };

test('a query answered by one of two live agents: its rows, and partial once the deadline passed', async () => {
  const asked = await api<{ query_id: string; expected_agents: number }>(center.url, admin, 'POST', '/api/v1/queries', { sql: 'SELECT count(*) AS n FROM processes', timeout_s: 5 });
  assert.equal(asked.expected_agents, 2);
  const log = await runOnce(agents[0]!.dir);
  assert.match(log, /fleet query answered/);
  const running = await api<Answer>(center.url, admin, 'GET', `/api/v1/queries/${asked.query_id}`);
  assert.equal(running.answers.length, 1);
  assert.equal(running.answers[0]!.agent_id, agents[0]!.id.id);
  assert.ok(running.answers[0]!.rows[0]!.n > 0, 'the agent counted its own processes');
  await new Promise((r) => setTimeout(r, 5_500)); // past the deadline
  await runOnce(agents[1]!.dir); // too late: the query is no longer handed out
  const final = await api<Answer>(center.url, admin, 'GET', `/api/v1/queries/${asked.query_id}`);
  assert.equal(final.state, 'partial');
  assert.equal(final.partial, true);
  assert.deepEqual(final.missing_agents, [agents[1]!.id.id]);
});

test('a runaway query is stopped on the agent and reported as its error; a write is refused at the center', async () => {
  const refused = await rawRequest(center.url, { ...tlsOf(admin), path: '/api/v1/queries', body: JSON.stringify({ sql: 'DELETE FROM alerts' }) });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /DE_QUERY_INVALID/);
  const asked = await api<{ query_id: string }>(center.url, admin, 'POST', '/api/v1/queries', {
    sql: 'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) AS n FROM r', timeout_s: 5,
  });
  await runOnce(agents[1]!.dir);
  const a = await api<Answer>(center.url, admin, 'GET', `/api/v1/queries/${asked.query_id}`);
  assert.equal(a.answers.length, 1);
  assert.match(a.answers[0]!.error ?? '', /longer than its budget/);
  // An agent cannot answer as another.
  const forged = await rawRequest(center.url, { ...tlsOf(agents[0]!.id), path: `/api/v1/queries/${asked.query_id}/results`,
    body: JSON.stringify({ agent_id: agents[1]!.id.id, host: 'x', rows: [], truncated: false, error: null }) });
  assert.equal(forged.status, 403);
});

test('daemoneye center query: asks, waits for every live agent, prints their rows with their host', async () => {
  let finished = false;
  const done = cliAsync(['--data-dir', center.dataDir, 'center', 'query', "SELECT 'ok' AS answer", '--center', center.url, '--timeout', '60', '--format', 'json'])
    .then((r) => { finished = true; return r; });
  const until = Date.now() + 60_000;
  while (!finished && Date.now() < until) {
    for (const a of agents) await runOnce(a.dir); // each takes the query with its heartbeat once it exists
  }
  const r = await done;
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { host: string; agent: string; answer: string }[];
  assert.deepEqual(rows.map((x) => x.agent).sort(), agents.map((a) => a.id.id).sort());
  assert.ok(rows.every((x) => x.answer === 'ok' && x.host.length > 0));
});
