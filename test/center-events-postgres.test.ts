// Agent events on PostgreSQL with two center processes sharing it: the same batch posted through
// both is stored once, either process reads it back, and the retention sweep (one DELETE at start)
// removes old events. Skipped, with the reason, when PostgreSQL cannot start here.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { api, CenterProcess, enrolWith, rawRequest, startCentersOnPostgres, tlsOf } from '../src/center/testing/center-harness.ts';
import { startPgCluster } from '../src/center/testing/pg-cluster.ts';
import { loadIdentity } from '../src/center-client/identity.ts';

const cluster = await startPgCluster();
const work = mkdtempSync(join(tmpdir(), 'de-center-events-pg-'));
const centers: CenterProcess[] = [];
after(async () => {
  for (const c of centers) await c.stop();
  if ('url' in cluster) await cluster.stop();
  rmSync(work, { recursive: true, force: true });
});

test('events on PostgreSQL: one batch through two processes is stored once; retention sweeps old ones', { skip: 'skip' in cluster ? cluster.skip : false, timeout: 120_000 }, async () => {
  const url = (cluster as { url: string }).url;
  const [c1, c2] = await startCentersOnPostgres(work, url, centers);
  const dir1 = c1.dataDir;
  const agent = await enrolWith(dir1, c1.url, join(work, 'agent'));
  const admin = loadIdentity(join(dir1, 'admin'));

  const day = 86_400_000;
  const events = Array.from({ length: 40 }, (_, i) => ({ kind: 'dns_queries', source_id: i + 1, time: Date.now() - (i === 0 ? 13 * day : 0), body: { query_name: `q${i}.example` } }));
  const body = JSON.stringify({ agent_id: agent.id, host: 'pg-host', events });
  const req = { ...tlsOf(agent), method: 'POST', path: '/api/v1/events', body, headers: { 'content-type': 'application/json' } };
  const [r1, r2] = await Promise.all([rawRequest(c1.url, req), rawRequest(c2.url, req)]);
  assert.equal(r1.status, 200, r1.body);
  assert.equal(r2.status, 200, r2.body);
  const stored = [r1, r2].map((r) => (JSON.parse(r.body) as { stored: number }).stored).reduce((a, b) => a + b, 0);
  assert.equal(stored, 40, 'the same batch through both processes is stored once');
  const read = await api<{ events: { source_id: number; host: string }[] }>(c2.url, admin, 'GET', `/api/v1/events?agent=${agent.id}&kind=dns_queries&limit=1000`);
  assert.equal(read.events.length, 40);
  assert.ok(read.events.every((e) => e.host === 'pg-host'));
  const since = new Date(Date.now() - day).toISOString();
  const recent = await api<{ events: { source_id: number }[] }>(c1.url, admin, 'GET', `/api/v1/events?host=pg-host&since=${since}&limit=1000`);
  assert.equal(recent.events.length, 39, 'the 13-day-old event is before `since`');
  const page = await api<{ events: { id: number }[]; next_before_id: number }>(c1.url, admin, 'GET', '/api/v1/events?limit=10');
  const next = await api<{ events: { id: number }[] }>(c1.url, admin, 'GET', `/api/v1/events?limit=10&before_id=${page.next_before_id}`);
  assert.ok(next.events.length === 10 && next.events.every((e) => e.id < page.events.at(-1)!.id + 1 && !page.events.some((p) => p.id === e.id)));
  assert.equal((await api<{ events: unknown[] }>(c1.url, admin, 'GET', '/api/v1/events?host=elsewhere')).events.length, 0);

  // Age one event past retention in the database, then let a process start (its sweep runs first).
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('UPDATE events SET time = $1 WHERE source_id = 1', [Date.now() - 30 * day]);
    await c1.stop();
    c1.log = '';
    await c1.start();
    const left = await client.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE agent_id = $1', [agent.id]);
    assert.equal(Number(left.rows[0]!.n), 39);
  } finally {
    await client.end();
  }
});
