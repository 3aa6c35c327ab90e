// Sharing sightings back to a writable TAXII collection (ours and the quirky one), and the agent's
// periodic round (sync every feed, then share) driven from a parsed configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMemoryStore, openStoreForWriting, openStoreReadOnly, storePath, type Db } from '../src/store/open-store.ts';
import { shareSightings } from '../src/intel/feeds/share-sightings.ts';
import { shareAlerts } from '../src/intel/feeds/share-alerts.ts';
import { INTEL_RULE_ID } from '../src/intel/match/intel-detector.ts';
import { IntelFeedService } from '../src/intel/feeds/intel-feed-service.ts';
import { TaxiiClient } from '../src/intel/taxii/taxii-client.ts';
import { TaxiiTransport } from '../src/intel/taxii/http-transport.ts';
import { configSchema } from '../src/config/schema.ts';
import { COLLECTION, WRITABLE, indicator, silentLog, startOurServer, uuid } from './taxii-helpers.ts';
import { QuirkyTaxiiServer } from './taxii-quirky-server.ts';

function sighting(n: number): Record<string, unknown> {
  return {
    type: 'sighting', spec_version: '2.1', id: `sighting--${uuid(n, '5')}`, created: '2026-11-28T10:00:00.000Z', modified: '2026-11-28T10:00:00.000Z',
    sighting_of_ref: indicator(n).id, count: 2, first_seen: '2026-11-28T09:00:00.000Z', last_seen: '2026-11-28T10:00:00.000Z',
  };
}

function addSighting(db: Db, n: number, observed: unknown = [], object: string = JSON.stringify(sighting(n))): void {
  db.prepare(`INSERT INTO intel_sightings (sighting_id, indicator_id, first_seen, last_seen, count, alert_uuid, observed, object)
    VALUES (?, ?, ?, ?, 2, NULL, ?, ?)`).run(sighting(n).id, indicator(n).id, Date.parse('2026-11-28T09:00:00Z') + n, Date.parse('2026-11-28T10:00:00Z'), JSON.stringify(observed), object);
}

const client = () => new TaxiiClient(new TaxiiTransport({ retries: 0 }));
const target = (url: string, collectionId = WRITABLE, includeObservedData = false) => ({ url, collectionId, includeObservedData, batchSize: 2 });

test('unshared sightings are posted in batches; confirmed ones are marked, an invalid row keeps its error, nothing is posted twice', async () => {
  const s = await startOurServer();
  const db = openMemoryStore();
  try {
    for (const n of [1, 2, 3]) addSighting(db, n);
    addSighting(db, 4, [], '{"type": "not-a-sighting"}');
    const r = await shareSightings(db, client(), target(s.apiRoot), { now: () => 1234 });
    assert.deepEqual({ attempted: r.attempted, shared: r.shared, failed: r.failed, pending: r.pending }, { attempted: 4, shared: 3, failed: 1, pending: 0 });
    assert.equal(r.error?.code, 'DE_TAXII_STATUS');
    const onServer = s.storage.query({ collectionId: WRITABLE, types: ['sighting'], limit: 100 }).objects.map((o) => o.id);
    assert.deepEqual(onServer.sort(), [1, 2, 3].map((n) => sighting(n).id).sort());
    const rows = db.prepare('SELECT sighting_id, shared_at, share_error FROM intel_sightings ORDER BY sighting_id').all() as { shared_at: number | null; share_error: string | null }[];
    assert.deepEqual(rows.map((x) => x.shared_at), [1234, 1234, 1234, null]);
    assert.match(rows[3]!.share_error!, /^DE_TAXII_INVALID_OBJECT/);
    s.requests.length = 0;
    const again = await shareSightings(db, client(), target(s.apiRoot));
    assert.equal(again.shared, 0);
    assert.equal(s.requests.length, 0, 'only the invalid row was left, and it is not posted');
  } finally {
    await s.close();
    db.close();
  }
});

test('include_observed_data posts the matched observables as SCOs and an observed-data object the sighting refers to', async () => {
  const s = await startOurServer();
  const db = openMemoryStore();
  try {
    // As the matcher stores them: referenced objects inlined (image for image_ref).
    addSighting(db, 1, [{ type: 'file', hashes: { 'SHA-256': 'ab'.repeat(32) } }, { type: 'ipv4-addr', value: '198.51.100.7' },
      { type: 'process', pid: 77, command_line: 'nc -e /bin/sh', image: { type: 'file', name: 'nc' } }]);
    const r = await shareSightings(db, client(), target(s.apiRoot, WRITABLE, true));
    assert.equal(r.shared, 1);
    const all = s.storage.query({ collectionId: WRITABLE, limit: 100 }).objects.map((o) => JSON.parse(o.json) as Record<string, unknown>);
    const byType = new Map(all.map((o) => [o.type as string, o]));
    const od = byType.get('observed-data')!;
    assert.equal(od.number_observed, 2);
    assert.deepEqual((od.object_refs as string[]).map((id) => id.split('--')[0]), ['file', 'ipv4-addr', 'file', 'process']);
    const proc = byType.get('process')!;
    assert.equal(proc.image, undefined);
    const image = all.find((o) => o.id === proc.image_ref)!;
    assert.deepEqual([image.type, image.name], ['file', 'nc']);
    assert.deepEqual(byType.get('sighting')!.observed_data_refs, [od.id]);
    // SCO ids are deterministic (UUIDv5 over the content): sharing the same observable twice gives one object.
    assert.match(byType.get('ipv4-addr')!.id as string, /^ipv4-addr--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  } finally {
    await s.close();
    db.close();
  }
});

test('a pending status is polled until complete; one still pending after the polls stays unshared with the reason', async () => {
  const quick = await new QuirkyTaxiiServer({ pendingPolls: 2 }).start();
  const slow = await new QuirkyTaxiiServer({ pendingPolls: 1000 }).start();
  const db = openMemoryStore();
  try {
    addSighting(db, 1);
    const stuck = await shareSightings(db, client(), target(slow.apiRoot, 'quirks'), { pollMs: 1, maxPolls: 3 });
    assert.deepEqual([stuck.shared, stuck.pending, stuck.error?.code], [0, 1, 'DE_TAXII_STATUS']);
    assert.match(db.prepare('SELECT share_error FROM intel_sightings').pluck().get() as string, /still pending/);
    const ok = await shareSightings(db, client(), target(quick.apiRoot, 'quirks'), { pollMs: 1, maxPolls: 5 });
    assert.equal(ok.shared, 1);
    assert.deepEqual(db.prepare('SELECT share_error FROM intel_sightings').pluck().get(), null);
  } finally {
    await quick.close();
    await slow.close();
    db.close();
  }
});

test('a refused post (422) leaves the sightings unshared with the coded reason', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(422, { 'content-type': 'application/taxii+json;version=2.1' });
    res.end('{"title":"Unprocessable","description":"sightings not accepted here"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const db = openMemoryStore();
  try {
    addSighting(db, 1);
    const r = await shareSightings(db, client(), target(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api1/`));
    assert.equal(r.error?.code, 'DE_TAXII_UNPROCESSABLE');
    const row = db.prepare('SELECT shared_at, share_error FROM intel_sightings').get() as { shared_at: null; share_error: string };
    assert.equal(row.shared_at, null);
    assert.match(row.share_error, /^DE_TAXII_UNPROCESSABLE: .*sightings not accepted here/);
  } finally {
    server.close();
    db.close();
  }
});

test('the agent round from config: several feeds with their own auth, then sharing; secrets print redacted', async () => {
  const s = await startOurServer({
    authenticate: (req) => (req.headers.authorization === 'Bearer feed-token' ? 'feed' : req.headers['x-share-key'] === 'share-key' ? 'sharer' : null),
    permits: (who, access, c) => (access === 'read' ? who === 'feed' : who === 'sharer' && c.id === WRITABLE),
  });
  const quirky = await new QuirkyTaxiiServer({ pageCap: 3 }).start();
  const dir = mkdtempSync(join(tmpdir(), 'intel-round-'));
  try {
    s.storage.add(COLLECTION, [indicator(1), indicator(2)]);
    quirky.add([indicator(10), indicator(11), indicator(12), indicator(13)]);
    const config = configSchema.parse({
      enterprise: {
        stix_taxii: {
          enable_integration: true, taxii_endpoint: s.apiRoot, collection_id: COLLECTION, auth: { type: 'bearer', token: 'feed-token' },
          feeds: [{ name: 'quirky', url: quirky.apiRoot, collection_id: 'quirks', page_size: 2 }],
          share: { url: s.apiRoot, collection_id: WRITABLE, auth: { type: 'api_key', header: 'X-Share-Key', api_key: 'share-key' } },
        },
      },
    });
    assert.doesNotMatch(JSON.stringify(config), /feed-token|share-key/);
    const service = new IntelFeedService(config, storePath(dir), silentLog);
    assert.equal(service.enabled, true);
    const w = openStoreForWriting(storePath(dir));
    addSighting(w, 1);
    w.close();
    const round = await service.runOnce();
    await service.stop();
    assert.deepEqual(round.feeds.map((f) => [f.feed, f.added, f.error?.code ?? null]), [['default', 2, null], ['quirky', 4, null]]);
    assert.equal(round.share?.sightings.shared, 1);
    assert.equal(round.share?.alerts, null);
    const db = openStoreReadOnly(storePath(dir));
    assert.equal(db.prepare('SELECT count(*) FROM intel_indicators').pluck().get(), 6);
    assert.deepEqual(db.prepare('SELECT feed_id FROM intel_feeds ORDER BY feed_id').pluck().all(), ['default', 'quirky']);
    db.close();
  } finally {
    await s.close();
    await quirky.close();
  }
});

test('config: auth needs its keys, rejects keys of other types, and TLS client cert and key go together', () => {
  const bad = [
    { auth: { type: 'basic', username: 'u' } },
    { auth: { type: 'bearer', token: 't', username: 'u' } },
    { tls: { cert_file: '/x.pem' } },
    { feeds: [{ name: 'a', url: 'https://x/api/', collection_id: 'c' }, { name: 'a', url: 'https://y/api/', collection_id: 'c' }] },
    { feeds: [{ name: 'default', url: 'https://x/api/', collection_id: 'c' }] },
    { share: { url: 'https://user:pw@x/api/', collection_id: 'c' } },
    { feeds: [{ name: 'a', url: 'file:///etc/passwd', collection_id: 'c' }] },
  ];
  for (const b of bad) assert.equal(configSchema.safeParse({ enterprise: { stix_taxii: b } }).success, false, JSON.stringify(b));
  const ok = configSchema.parse({ enterprise: { stix_taxii: { auth: { type: 'api_key', api_key: 'k' }, tls: { ca_file: '/ca.pem' } } } });
  assert.equal(String(ok.enterprise.stix_taxii.auth?.api_key), '[redacted]');
});

function addAlert(db: Db, n: number, severity: string, over: Record<string, unknown> = {}): string {
  const row = {
    alert_uuid: `6f1c2a9e-5b7d-4e11-9a0c-${String(n).padStart(12, '0')}`, rule_id: `DE-LNX-000${n}`, rule_version: 2, rule_name: `rule ${n}`, severity,
    attack_ids: '["T1059.004"]', tags: '["execution"]', host: 'web-01', dedup_key: `k${n}`, pid: 4242, process_name: 'bash', executable_path: '/usr/bin/bash',
    command_line: 'bash -i', process_start: Date.parse('2026-11-28T08:00:00Z'), summary: `alert ${n}`, evidence: '{}', first_seen: Date.parse('2026-11-28T09:00:00Z'),
    last_seen: Date.parse('2026-11-28T09:30:00Z'), occurrences: 3, ...over,
  };
  const cols = Object.keys(row);
  db.prepare(`INSERT INTO alerts (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`).run(row);
  return row.alert_uuid;
}

test('alerts of other detectors are shared as indicator + observables + observed-data + sighting, once, and again when they re-occur', async () => {
  const s = await startOurServer();
  const db = openMemoryStore();
  try {
    const high = addAlert(db, 1, 'high');
    addAlert(db, 2, 'low');
    const matched = addAlert(db, 3, 'critical');
    addSighting(db, 3);
    db.prepare('UPDATE intel_sightings SET alert_uuid = ?').run(matched);
    addAlert(db, 4, 'critical', { rule_id: INTEL_RULE_ID }); // a STIX match: its sighting is what gets shared
    const r = await shareAlerts(db, client(), target(s.apiRoot), 'high');
    assert.deepEqual([r.attempted, r.shared, r.error], [1, 1, null]);
    const objs = s.storage.query({ collectionId: WRITABLE, versions: ['all'], limit: 100 }).objects.map((o) => JSON.parse(o.json) as Record<string, unknown>);
    assert.deepEqual(objs.map((o) => o.type), ['indicator', 'file', 'process', 'observed-data', 'sighting']);
    const [rule, file, proc, od, sight] = objs as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    assert.equal(rule.pattern, 'DE-LNX-0001');
    assert.deepEqual(rule.external_references, [{ source_name: 'mitre-attack', external_id: 'T1059.004' }]);
    assert.equal(proc.image_ref, file.id);
    assert.deepEqual(od.object_refs, [file.id, proc.id]);
    assert.equal(sight.sighting_of_ref, rule.id);
    assert.deepEqual(sight.observed_data_refs, [od.id]);
    assert.equal(sight.count, 3);
    assert.equal(sight.x_daemoneye_alert_uuid, high);
    assert.equal(db.prepare('SELECT last_seen FROM intel_shared_alerts WHERE alert_uuid = ?').pluck().get(high), Date.parse('2026-11-28T09:30:00Z'));

    assert.equal((await shareAlerts(db, client(), target(s.apiRoot), 'high')).attempted, 0);
    db.prepare('UPDATE alerts SET last_seen = ?, occurrences = 4 WHERE alert_uuid = ?').run(Date.parse('2026-11-28T10:00:00Z'), high);
    assert.equal((await shareAlerts(db, client(), target(s.apiRoot), 'high')).shared, 1);
    const sightings = s.storage.query({ collectionId: WRITABLE, types: ['sighting'], versions: ['all'], limit: 100 }).objects;
    assert.deepEqual(sightings.map((o) => o.id), [sight.id, sight.id], 'the same sighting, a newer version');
    assert.equal(s.storage.query({ collectionId: WRITABLE, types: ['indicator'], versions: ['all'], limit: 100 }).objects.length, 1, 'the rule is not duplicated');
    assert.equal((await shareAlerts(db, client(), target(s.apiRoot), 'low')).shared, 1, 'the low alert at a lower threshold');
  } finally {
    await s.close();
    db.close();
  }
});
