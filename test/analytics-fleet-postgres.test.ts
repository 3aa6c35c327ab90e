// Fleet path rarity on PostgreSQL with two center processes sharing the database: reports taken by
// either process count in the view served by the other (no in-process state), a new report
// replaces the old one, and a view cut at `limit` says so with its floor. Skips without PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CenterProcess, cli, cliAsync, rawRequest, startCentersOnPostgres } from '../src/center/testing/center-harness.ts';
import { startPgCluster } from '../src/center/testing/pg-cluster.ts';
import { loadIdentity, type Identity } from '../src/center-client/identity.ts';

const pg = await startPgCluster();
const work = mkdtempSync(join(tmpdir(), 'de-fleet-pg-'));
const centers: CenterProcess[] = [];
after(async () => {
  for (const c of centers) await c.stop();
  if ('url' in pg) await pg.stop();
  rmSync(work, { recursive: true, force: true });
});

const h = (tag: string) => tag.padEnd(16, '0');

test('two center processes on one PostgreSQL serve one fleet view', { skip: 'skip' in pg ? pg.skip : false, timeout: 120_000 }, async () => {
  const [c1, c2] = await startCentersOnPostgres(work, (pg as { url: string }).url, centers);
  const dir1 = c1.dataDir;
  const via = [c1, c2];

  const agents: Identity[] = [];
  for (let i = 0; i < 4; i++) {
    const token = cli(['--data-dir', dir1, 'center', 'token']).stdout.trim();
    const enrolled = await cliAsync(['--data-dir', join(work, `a${i}`), 'enroll', '--center', via[i % 2]!.url, '--token', token]);
    assert.equal(enrolled.status, 0, enrolled.stderr);
    agents.push(loadIdentity(join(work, `a${i}`, 'identity')));
  }
  const tls = (a: Identity) => ({ ca: a.caPem, cert: a.certPem, key: a.keyPem });
  const report = async (i: number, paths: string[], center: CenterProcess) => {
    const r = await rawRequest(center.url, { ...tls(agents[i]!), path: '/api/v1/analytics/fleet-paths',
      body: JSON.stringify({ agent_id: agents[i]!.id, window_days: 14, paths: paths.map((p) => ({ h: p, days: 2, runs: 5 })) }) });
    assert.equal(r.status, 200, r.body);
  };
  type View = { revision: number; changed: boolean; hosts: number; truncated: boolean; floor: number; paths: { h: string; hosts: number }[] };
  const view = async (i: number, center: CenterProcess, query = '') => {
    const r = await rawRequest(center.url, { ...tls(agents[i]!), path: `/api/v1/analytics/fleet-paths${query}` });
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as View;
  };

  // Every host runs a; hosts 0 and 1 run b; each host has its own c<i>. Reports alternate between the processes.
  for (let i = 0; i < 4; i++) await report(i, [h('a'), ...(i < 2 ? [h('b')] : []), h(`c${i}`)], via[i % 2]!);

  const v0 = await view(0, c2);
  assert.equal(v0.changed, true);
  assert.equal(v0.hosts, 3, 'the asking host is left out');
  assert.deepEqual(new Map(v0.paths.map((p) => [p.h, p.hosts])), new Map([[h('a'), 3], [h('b'), 1], [h('c1'), 1], [h('c2'), 1], [h('c3'), 1]]));
  assert.equal(v0.paths[0]!.h, h('a'), 'the most widespread first');
  const same = await view(0, c1, `?since=${v0.revision}`);
  assert.deepEqual(same, { revision: v0.revision, changed: false }, 'both processes read the revision from the database');

  // Host 3 reports again without a: the old report is replaced, and the revision moves.
  await report(3, [h('c3')], c1);
  const v1 = await view(0, c2, `?since=${v0.revision}`);
  assert.ok(v1.revision > v0.revision);
  assert.equal(new Map(v1.paths.map((p) => [p.h, p.hosts])).get(h('a')), 2);

  // Cut at one path: truncated, and the floor is the last path's host count.
  const cut = await view(1, c1, '?limit=1');
  assert.equal(cut.truncated, true);
  assert.deepEqual(cut.paths, [{ h: h('a'), hosts: 2 }]);
  assert.equal(cut.floor, 2);
});
