// Two center processes sharing one PostgreSQL (as behind a load balancer): a token issued through
// one enrols through the other, alerts posted to either land once, a revocation made through one
// is enforced by the other at once. Skipped, with the reason, when PostgreSQL cannot start here.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CenterProcess, cli, cliAsync, rawRequest, sampleAlert, startCentersOnPostgres } from '../src/center/testing/center-harness.ts';
import { startPgCluster } from '../src/center/testing/pg-cluster.ts';
import { loadIdentity } from '../src/center-client/identity.ts';

const pg = await startPgCluster();
const work = mkdtempSync(join(tmpdir(), 'de-center-pg-'));
const centers: CenterProcess[] = [];
after(async () => {
  for (const c of centers) await c.stop();
  if ('url' in pg) await pg.stop();
  rmSync(work, { recursive: true, force: true });
});

test('two center processes on one PostgreSQL behave as one center', { skip: 'skip' in pg ? pg.skip : false, timeout: 120_000 }, async () => {
  // The second process shares the data directory's PKI and settings (as a copy on another machine would).
  const [c1, c2] = await startCentersOnPostgres(work, (pg as { url: string }).url, centers);
  const dir1 = c1.dataDir;

  const token = cli(['--data-dir', dir1, 'center', 'token']).stdout.trim();
  const enrolled = await cliAsync(['--data-dir', join(work, 'agent'), 'enroll', '--center', c2.url, '--token', token]);
  assert.equal(enrolled.status, 0, enrolled.stderr);
  const again = await cliAsync(['--data-dir', join(work, 'agent2'), 'enroll', '--center', c1.url, '--token', token]);
  assert.equal(again.status, 2, 'the token was used through the other process');
  const agent = loadIdentity(join(work, 'agent', 'identity'));

  const body = JSON.stringify({ agent_id: agent.id, alerts: Array.from({ length: 50 }, (_, i) => sampleAlert(i + 1, randomUUID())) });
  const tls = { ca: agent.caPem, cert: agent.certPem, key: agent.keyPem, path: '/api/v1/alerts', body };
  const [r1, r2] = await Promise.all([rawRequest(c1.url, tls), rawRequest(c2.url, tls)]);
  assert.equal(r1.status, 200, r1.body);
  assert.equal(r2.status, 200, r2.body);
  const stored = [JSON.parse(r1.body) as { stored: number }, JSON.parse(r2.body) as { stored: number }].reduce((n, r) => n + r.stored, 0);
  assert.equal(stored, 50, 'the same batch through both processes is stored once');

  const admin = loadIdentity(join(dir1, 'admin'));
  const list = await rawRequest(c2.url, { ca: admin.caPem, cert: admin.certPem, key: admin.keyPem, path: '/api/v1/alerts?limit=1000' });
  assert.equal((JSON.parse(list.body) as { alerts: unknown[] }).alerts.length, 50);

  assert.equal(cli(['--data-dir', dir1, 'center', 'revoke', agent.id]).status, 0);
  const refused = await rawRequest(c2.url, tls);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /certificate_revoked/);
});
