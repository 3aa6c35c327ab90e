// The center's query layer, run against both engines: SQLite (a temp file) and PostgreSQL (a
// throwaway cluster; skipped with the reason when it cannot start). Two handles on one database
// stand for two center processes sharing it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CenterRepo } from './center-repo.ts';
import { openCenterDb, type OpenedCenterDb } from './db/open-center-db.ts';
import { secretHash } from './enrollment-token.ts';
import { compareHlc } from './hlc.ts';
import { sampleAlert } from './testing/center-harness.ts';
import { startPgCluster, type PgCluster } from './testing/pg-cluster.ts';
import type { AlertInput } from './alert-input.ts';

const tmp = mkdtempSync(join(tmpdir(), 'de-center-repo-'));
const pg = await startPgCluster();
after(async () => {
  if ('url' in pg) await (pg as PgCluster).stop();
  rmSync(tmp, { recursive: true, force: true });
});

const engines: { name: string; location: string | null; skip: string | false }[] = [
  { name: 'sqlite', location: join(tmp, 'center.db'), skip: false },
  { name: 'postgres', location: 'url' in pg ? pg.url : null, skip: 'skip' in pg ? pg.skip : false },
];

const alerts = (n: number, from = 1) => Array.from({ length: n }, (_, i) => sampleAlert(from + i, randomUUID()) as unknown as AlertInput);

for (const engine of engines) {
  describe(`center repo on ${engine.name}`, { skip: engine.skip }, () => {
    let a: OpenedCenterDb;
    let b: OpenedCenterDb;
    let one: CenterRepo;
    let two: CenterRepo;
    test('migrates (twice: two processes starting at once)', async () => {
      if (engine.name === 'postgres') {
        [a, b] = await Promise.all([openCenterDb(engine.location!), openCenterDb(engine.location!)]);
      } else {
        // better-sqlite3 is synchronous: two connections in one thread waiting on each other's
        // lock would block the thread itself. SQLite's cross-process case is the CLI tests'.
        a = await openCenterDb(engine.location!);
        b = await openCenterDb(engine.location!);
        await b.close();
        b = a;
      }
      one = new CenterRepo(a.db);
      two = new CenterRepo(b.db);
    });
    after(async () => {
      await a?.close();
      if (b !== a) await b?.close();
    });

    test('an alert batch delivered twice is stored once, by (origin, sequence)', async () => {
      const batch = alerts(1200);
      assert.deepEqual(await one.ingestAlerts('c1', 'agent-1', batch, 1), { inserted: 1200, duplicates: 0 });
      assert.deepEqual(await two.ingestAlerts('c1', 'agent-1', batch, 2), { inserted: 0, duplicates: 1200 });
      // The same sequence from another agent is another fact.
      assert.equal((await one.ingestAlerts('c1', 'agent-2', alerts(3), 3)).inserted, 3);
      assert.equal(await one.countAlerts(), 1203);
    });

    test('a token is consumed once even when two processes race for it', async () => {
      await one.createToken('tok1', secretHash('s3cret'), 'agent', 1000, 60_000);
      const results = await Promise.all([one.consumeToken('tok1', 's3cret', 'x', 2000), two.consumeToken('tok1', 's3cret', 'y', 2000)]);
      assert.equal(results.filter((r) => r.ok).length, 1);
      assert.deepEqual(await one.consumeToken('tok1', 'wrong', 'z', 2000), { ok: false, reason: 'bad_secret' });
      await one.createToken('tok2', secretHash('s'), 'agent', 1000, 10);
      assert.deepEqual(await one.consumeToken('tok2', 's', 'z', 5000), { ok: false, reason: 'expired' });
    });

    test('triage: versions and HLC stamps move forward under concurrent edits from two processes', async () => {
      const [first] = await one.listAlerts({ limit: 1, origin: 'agent-1' });
      const edits = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? one : two).triage(first!.alert_uuid, { assignee: `analyst-${i}`, note: `note ${i}` }, `analyst-${i}`, 'c1', 5000)));
      assert.ok(edits.every((e) => e.ok));
      const after = await one.alert(first!.alert_uuid);
      assert.equal(after!.triage_version, 10, 'no lost update');
      const stamps = edits.map((e) => (e.ok ? e.alert.triage_hlc! : '')).sort(compareHlc);
      assert.equal(new Set(stamps).size, 10, 'every edit has its own stamp, though the wall clock did not move');
      assert.equal((await one.notes(first!.alert_uuid)).length, 10);
      const stale = await one.triage(first!.alert_uuid, { status: 'resolved', expected_version: 3 }, 'x', 'c1', 6000);
      assert.equal(stale.ok, false);
    });

    test('filters and search (LIKE wildcards in the text are literal)', async () => {
      await one.ingestAlerts('c1', 'agent-3', [{ ...alerts(1, 1)[0]!, summary: '100% CPU by miner_x', severity: 'critical' }], 7);
      assert.equal((await one.listAlerts({ limit: 10, q: '100%' })).length, 1);
      assert.equal((await one.listAlerts({ limit: 10, q: 'MINER_X' })).length, 1);
      assert.equal((await one.listAlerts({ limit: 10, q: '1_0' })).length, 0);
      assert.equal((await one.listAlerts({ limit: 2000, severity: ['critical'] })).length, 1);
      const page1 = await one.listAlerts({ limit: 500 });
      const page2 = await one.listAlerts({ limit: 500, before_id: page1.at(-1)!.id });
      assert.ok(page2.every((r) => r.id < page1.at(-1)!.id));
    });

    test('authored objects take increasing revisions; pull pages by revision', async () => {
      const r1 = await one.putObject({ kind: 'rule', object_id: 'R1', body: '{"a":1}', deleted: false, author: 'x', origin: 'c1', now: 1 });
      const r2 = await two.putObject({ kind: 'rule', object_id: 'R1', body: '{"a":2}', deleted: false, author: 'x', origin: 'c1', now: 2 });
      await one.putObject({ kind: 'indicator_set', object_id: 'I1', body: '{}', deleted: false, author: 'x', origin: 'c1', now: 3 });
      assert.ok(r2.revision > r1.revision);
      assert.equal(r2.version, 2);
      const since = await one.objectsSince(r1.revision, 1);
      assert.equal(since.length, 1);
      assert.equal(since[0]!.object_id, 'R1');
      assert.equal(await one.latestRevision(), (await one.objectsSince(0, 10)).at(-1)!.revision);
    });
  });
}
