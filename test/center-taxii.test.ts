// The center's TAXII 2.1 collections end to end, with a real center process and real mutual TLS on
// loopback: an enrolled agent discovers the API root with our TAXII client, reads the indicators an
// analyst authored at the center, posts sightings, which an analyst reads back; roles are enforced,
// a request without a client certificate and a wrong media type are refused; and an agent's
// `enterprise.stix_taxii.feeds` entry pointing at the center syncs with its enrolled identity files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { api, CenterProcess, cliAsync, enrolWith, rawRequest, startCenter, tlsOf } from '../src/center/testing/center-harness.ts';
import { loadIdentity, type Identity } from '../src/center-client/identity.ts';
import { TaxiiClient } from '../src/intel/taxii/taxii-client.ts';
import { TaxiiError, TaxiiTransport } from '../src/intel/taxii/http-transport.ts';

const work = mkdtempSync(join(tmpdir(), 'de-center-taxii-'));
const agentDir = join(work, 'agent');
let center: CenterProcess;
let admin: Identity;
let agent: Identity;
let apiRoot: string;

const clientFor = (who: Identity) => new TaxiiClient(new TaxiiTransport({ ca: who.caPem, cert: who.certPem, key: who.keyPem, retries: 0, timeoutMs: 20_000 }));

before(async () => {
  center = await startCenter(join(work, 'center'));
  admin = loadIdentity(join(work, 'center', 'admin'));
  agent = await enrolWith(center.dataDir, center.url, agentDir);
  apiRoot = `${center.url}/taxii2/daemoneye/`;
});
after(async () => {
  await center.stop();
  rmSync(work, { recursive: true, force: true });
});

const author = (id: string, body: unknown, deleted = false) => api(center.url, admin, 'PUT', `/api/v1/objects/indicator_set/${id}`, { body, deleted });
const patterns = async (who: Identity) => {
  const out = new Map<string, Record<string, unknown>>();
  for await (const page of clientFor(who).objects(apiRoot, 'indicators', { types: ['indicator'] })) for (const o of page.items) out.set(String(o.pattern), o);
  return out;
};

test('an agent discovers the API root, lists collections with its rights, and reads indicators authored at the center', async () => {
  const client = clientFor(agent);
  const d = await client.discovery(`${center.url}/taxii2/`);
  assert.deepEqual(d.api_roots, [apiRoot]);
  const root = await client.apiRoot(apiRoot);
  assert.deepEqual(root.versions, ['application/taxii+json;version=2.1']);
  const cols = await client.collections(apiRoot);
  assert.deepEqual(cols.map((c) => [c.id, c.can_read, c.can_write]).sort(), [['indicators', true, false], ['sightings', false, true]]);

  await author('bad-ips', { indicators: ["[ipv4-addr:value = '203.0.113.7']", { pattern: "[domain-name:value = 'evil.example']", name: 'C2 domain', labels: ['c2'] }, { nope: 1 }] });
  let seen = await patterns(agent);
  assert.equal(seen.size, 2, 'the two valid entries, not the one without a pattern');
  const domain = seen.get("[domain-name:value = 'evil.example']")!;
  assert.equal(domain.name, 'C2 domain');
  assert.deepEqual(domain.labels, ['c2']);
  assert.equal(domain.spec_version, '2.1');
  assert.equal(domain.x_daemoneye_indicator_set, 'bad-ips');
  assert.match(String(domain.id), /^indicator--[0-9a-f-]{36}$/);

  // A new version of the set: a removed indicator is revoked, an unchanged one keeps its version.
  const ipBefore = seen.get("[ipv4-addr:value = '203.0.113.7']")!;
  await author('bad-ips', { indicators: ["[ipv4-addr:value = '203.0.113.7']", "[file:hashes.'SHA-256' = '" + 'ab'.repeat(32) + "']"] });
  seen = await patterns(agent);
  assert.equal(seen.size, 3);
  assert.equal(seen.get("[domain-name:value = 'evil.example']")!.revoked, true);
  assert.equal(seen.get("[domain-name:value = 'evil.example']")!.created, domain.created, 'created stays, modified moves');
  assert.notEqual(seen.get("[domain-name:value = 'evil.example']")!.modified, domain.modified);
  assert.equal(seen.get("[ipv4-addr:value = '203.0.113.7']")!.modified, ipBefore.modified);

  // Agents may not write indicators nor read sightings: TAXII 403s, mapped to DE_TAXII_FORBIDDEN.
  await assert.rejects(client.addObjects(apiRoot, 'indicators', [domain]), (e: TaxiiError) => e.code === 'DE_TAXII_FORBIDDEN');
  await assert.rejects(client.objectsPage(apiRoot, 'sightings'), (e: TaxiiError) => e.code === 'DE_TAXII_FORBIDDEN');
});

test('an agent posts a sighting bundle; an analyst reads it back; an analyst cannot post', async () => {
  const client = clientFor(agent);
  const [indicator] = [...(await patterns(agent)).values()];
  const now = new Date().toISOString();
  const sighting = {
    type: 'sighting', spec_version: '2.1', id: `sighting--${randomUUID()}`, created: now, modified: now,
    sighting_of_ref: indicator!.id, count: 3, first_seen: now, last_seen: now, x_daemoneye_host: 'web-1',
  };
  const broken = { type: 'sighting', id: 'sighting--not-a-uuid' };
  const status = await client.addObjects(apiRoot, 'sightings', [sighting, broken]);
  assert.equal(status.status, 'complete');
  assert.equal(status.success_count, 1);
  assert.equal(status.failure_count, 1);
  assert.equal((await client.status(apiRoot, status.id)).success_count, 1, 'the poster can read its status resource');

  const analyst = clientFor(admin);
  const page = await analyst.objectsPage(apiRoot, 'sightings');
  assert.deepEqual(page.items.map((o) => o.id), [sighting.id]);
  assert.equal(page.items[0]!.sighting_of_ref, indicator!.id);
  assert.equal(page.items[0]!.count, 3);
  assert.equal((await analyst.objectsPage(apiRoot, 'indicators')).items.length, 3, 'analysts read indicators too');
  await assert.rejects(analyst.addObjects(apiRoot, 'sightings', [sighting]), (e: TaxiiError) => e.code === 'DE_TAXII_FORBIDDEN');
});

test('no client certificate, a revoked one, a wrong Accept and a wrong Content-Type are refused; nothing is stored', async () => {
  const ca = agent.caPem;
  const accept = { accept: 'application/taxii+json;version=2.1' };
  const bare = await rawRequest(center.url, { ca, path: '/taxii2/daemoneye/collections/indicators/objects/', headers: accept });
  assert.equal(bare.status, 401);
  assert.match(bare.body, /no_client_certificate/);
  const discovery = await rawRequest(center.url, { ca, path: '/taxii2/', headers: accept });
  assert.equal(discovery.status, 401, 'discovery needs a certificate too');

  const wrongAccept = await rawRequest(center.url, { ...tlsOf(agent), path: '/taxii2/daemoneye/collections/', headers: { accept: 'application/json' } });
  assert.equal(wrongAccept.status, 406);
  assert.equal(JSON.parse(wrongAccept.body).http_status, '406');
  const envelope = JSON.stringify({ objects: [{ type: 'sighting', spec_version: '2.1', id: `sighting--${randomUUID()}`, created: '2026-11-28T00:00:00Z', modified: '2026-11-28T00:00:00Z', sighting_of_ref: `indicator--${randomUUID()}` }] });
  const wrongType = await rawRequest(center.url, { ...tlsOf(agent), method: 'POST', path: '/taxii2/daemoneye/collections/sightings/objects/', body: envelope, headers: accept });
  assert.equal(wrongType.status, 415);
  // Past the center's body limit (8 MiB by default, announced as max_content_length): 413, not buffered into the store.
  // (Only the start is sent: the center answers from the declared length and closes the connection.)
  const tooLarge = await new Promise<number>((resolve, reject) => {
    const req = request(new URL('/taxii2/daemoneye/collections/sightings/objects/', center.url), {
      method: 'POST', ...tlsOf(agent), agent: false,
      headers: { ...accept, 'content-type': 'application/taxii+json;version=2.1', 'content-length': 9 * 1024 * 1024 },
    }, (res) => { resolve(res.statusCode ?? 0); res.resume(); req.destroy(); });
    req.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e); });
    req.on('close', () => reject(new Error('the center closed the connection without an answer')));
    req.write('{"objects": [' + ' '.repeat(64 * 1024));
  });
  assert.equal(tooLarge, 413);

  // A revoked agent is refused by the center's certificate check before TAXII sees the request.
  const other = await enrolWith(center.dataDir, center.url, join(work, 'revoked-agent'));
  await api(center.url, admin, 'POST', `/api/v1/identities/${other.id}/revoke`, { reason: 'test' });
  await assert.rejects(clientFor(other).addObjects(apiRoot, 'sightings', JSON.parse(envelope).objects), (e: TaxiiError) => e.code === 'DE_TAXII_FORBIDDEN');

  // The TAXII-level refusals are in the center's security log with the certificate ones.
  const log = await api<{ refusals: { reason: string; path: string; identity: string | null }[] }>(center.url, admin, 'GET', '/api/v1/refusals');
  const reasons = log.refusals.filter((r) => r.path.startsWith('/taxii2/')).map((r) => r.reason);
  for (const reason of ['no_client_certificate', 'taxii_not_acceptable', 'unsupported_media_type', 'payload_too_large', 'certificate_revoked', 'taxii_forbidden']) {
    assert.ok(reasons.includes(reason), `${reason} in ${reasons.join(', ')}`);
  }
  assert.equal(reasons.filter((r) => r === 'certificate_revoked').length, 1, 'a refusal is recorded once');

  const stored = new Database(join(center.dataDir, 'taxii.db'), { readonly: true });
  const sightings = stored.prepare("SELECT count(*) FROM taxii_objects WHERE collection_id = 'sightings'").pluck().get();
  stored.close();
  assert.equal(sightings, 1, 'only the one sighting of the previous test');
});

test('`daemoneye intel sync` from a stix_taxii.feeds entry pointing at the center, with the enrolled identity files', async () => {
  await author('more', ["[ipv4-addr:value = '198.51.100.9']"]);
  await author('broken', { type: 'bundle', objects: 'not a list' }); // logged at the center; the other sets still publish
  const idDir = join(agentDir, 'identity');
  const config = join(work, 'feed.yaml');
  writeFileSync(config, [
    'enterprise:',
    '  stix_taxii:',
    '    enable_integration: true',
    '    feeds:',
    '      - name: center',
    `        url: ${apiRoot}`,
    '        collection_id: indicators',
    `        tls: {ca_file: ${join(idDir, 'ca.pem')}, cert_file: ${join(idDir, 'cert.pem')}, key_file: ${join(idDir, 'key.pem')}}`,
  ].join('\n') + '\n');
  const r = await cliAsync(['--config', config, '--data-dir', agentDir, 'intel', 'sync', '--feed', 'center']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const db = new Database(join(agentDir, 'daemoneye.db'), { readonly: true });
  const rows = db.prepare('SELECT pattern, revoked FROM intel_indicators WHERE feed_id = ? ORDER BY pattern').all('center') as { pattern: string; revoked: number }[];
  db.close();
  assert.deepEqual(rows.map((x) => [x.pattern, x.revoked]), [
    ["[domain-name:value = 'evil.example']", 1],
    ["[file:hashes.'SHA-256' = '" + 'ab'.repeat(32) + "']", 0],
    ["[ipv4-addr:value = '198.51.100.9']", 0],
    ["[ipv4-addr:value = '203.0.113.7']", 0],
  ]);
});

test('the loop: an agent matches a center indicator on a real process and `intel share` posts the sighting to the center, where an analyst reads it', async () => {
  const marker = `taxiiprobe-${process.pid}`;
  const authored = await author('probe', [{ pattern: `[process:command_line = '${marker} 120' AND process:image_ref.name = 'sleep']`, name: 'probe process' }]) as { version: number };
  assert.equal(authored.version, 1);
  const idDir = join(agentDir, 'identity');
  const tls = `{ca_file: ${join(idDir, 'ca.pem')}, cert_file: ${join(idDir, 'cert.pem')}, key_file: ${join(idDir, 'key.pem')}}`;
  const config = join(work, 'loop.yaml');
  writeFileSync(config, [
    'detection:', '  builtin_rules: false', 'alerting:', '  stdout: { enabled: false }',
    'enterprise:', '  stix_taxii:', '    enable_integration: true', '    feeds:', '      - name: center', `        url: ${apiRoot}`, '        collection_id: indicators', `        tls: ${tls}`,
    '    share:', `      url: ${apiRoot}`, '      collection_id: sightings', `      tls: ${tls}`,
  ].join('\n') + '\n');
  const run = async (...args: string[]) => {
    const r = await cliAsync(['--config', config, '--data-dir', agentDir, ...args]);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
  };
  await run('intel', 'sync', '--feed', 'center');
  await run('run', '--once'); // baseline: processes already running are not "new"
  const child = spawn('sleep', ['120'], { argv0: marker, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    await run('run', '--once');
  } finally {
    child.kill('SIGKILL');
  }
  await run('intel', 'share');
  const probeId = [...(await patterns(admin)).values()].find((o) => o.name === 'probe process')!.id;
  const sightings = (await clientFor(admin).objectsPage(apiRoot, 'sightings', { types: ['sighting'] })).items;
  assert.ok(sightings.some((s) => s.sighting_of_ref === probeId), `a sighting of ${probeId} among ${JSON.stringify(sightings.map((s) => s.sighting_of_ref))}`);
});
