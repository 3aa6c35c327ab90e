// Hostile requests against a real center over real TLS: no certificate, a certificate from another
// CA, an expired one, a revoked one, one the center never issued, an agent posting as another
// agent, oversized, malformed and random payloads. Each is refused, logged (stderr and the
// refusals table), and nothing of it is stored; a well-formed request on the same channel is.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { CenterProcess, cli, enrolWith, freePort, initCenterDir, rawRequest, sampleAlert } from '../src/center/testing/center-harness.ts';
import { loadIdentity, type Identity } from '../src/center-client/identity.ts';
import { generateKeyPair, importPrivateKey, issueCertificate } from '../src/center/pki/x509.ts';

const work = mkdtempSync(join(tmpdir(), 'de-center-sec-'));
const centerDir = join(work, 'center');
const otherDir = join(work, 'other-center');
const MAX_BODY = 64 * 1024;
let center: CenterProcess;
let agentA: Identity;
let agentB: Identity;
let caPem: string;

const enrol = (name: string): Promise<Identity> => enrolWith(centerDir, center.url, join(work, name));

before(async () => {
  const port = await freePort();
  await initCenterDir(centerDir, port);
  await initCenterDir(otherDir, await freePort());
  const settingsPath = join(centerDir, 'center.json');
  writeFileSync(settingsPath, JSON.stringify({ ...JSON.parse(readFileSync(settingsPath, 'utf8')), max_body_bytes: MAX_BODY }));
  center = new CenterProcess(centerDir, port);
  await center.start();
  agentA = await enrol('agent-a');
  agentB = await enrol('agent-b');
  caPem = agentA.caPem;
});
after(async () => {
  await center.stop();
  rmSync(work, { recursive: true, force: true });
});

const post = (who: { certPem: string; keyPem: string } | null, body: string | Buffer, headers: Record<string, string | number> = {}) =>
  rawRequest(center.url, { ca: caPem, ...(who ? { cert: who.certPem, key: who.keyPem } : {}), path: '/api/v1/alerts', body, headers });
const batch = (agentId: string, n = 1) => JSON.stringify({ agent_id: agentId, alerts: Array.from({ length: n }, (_, i) => sampleAlert(i + 1, randomUUID())) });
const storedAlerts = () => {
  const db = new Database(join(centerDir, 'center.db'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM alerts').pluck().get() as number;
  } finally {
    db.close();
  }
};
const reasons = () => {
  const db = new Database(join(centerDir, 'center.db'), { readonly: true });
  try {
    return new Set(db.prepare('SELECT reason FROM refusals').pluck().all() as string[]);
  } finally {
    db.close();
  }
};

test('no client certificate: refused, logged, nothing stored', async () => {
  const r = await post(null, batch(agentA.id));
  assert.equal(r.status, 401);
  await center.waitForLog(/request refused reason="no_client_certificate"/);
  assert.equal(storedAlerts(), 0);
});

test("a certificate from another center's CA: refused", async () => {
  const other = loadIdentity(join(otherDir, 'admin'));
  const r = await post(other, batch(other.id));
  assert.equal(r.status, 401);
  assert.match(r.body, /certificate_not_trusted/);
});

test('an expired certificate signed by this CA, and one this CA signed but never issued: refused', async () => {
  const ca = { certPem: caPem, signingKey: await importPrivateKey(readFileSync(join(centerDir, 'pki', 'ca-key.pem'), 'utf8')) };
  const key = await generateKeyPair();
  const day = 86_400_000;
  const expired = await issueCertificate(ca, key.keys.publicKey, {
    commonName: agentA.id, notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day), client: { role: 'agent', id: agentA.id },
  });
  const r1 = await post({ certPem: expired, keyPem: key.privateKeyPem }, batch(agentA.id));
  assert.equal(r1.status, 401);
  assert.match(r1.body, /CERT_HAS_EXPIRED/);
  const forged = await issueCertificate(ca, key.keys.publicKey, { commonName: agentA.id, notAfter: new Date(Date.now() + day), client: { role: 'agent', id: agentA.id } });
  const r2 = await post({ certPem: forged, keyPem: key.privateKeyPem }, batch(agentA.id));
  assert.equal(r2.status, 403);
  assert.match(r2.body, /certificate_unknown/);
  assert.equal(storedAlerts(), 0);
});

test('an agent posting as another agent: refused, nothing stored', async () => {
  const r = await post(agentB, batch(agentA.id, 3));
  assert.equal(r.status, 403);
  assert.match(r.body, /identity_claim_mismatch/);
  assert.equal(storedAlerts(), 0);
});

test('oversized, malformed, wrongly typed and random payloads: refused, nothing stored', async () => {
  const big = await post(agentA, batch(agentA.id, 200)); // ~100 KiB > 64 KiB
  assert.equal(big.status, 413);
  assert.equal((await post(agentA, '{"agent_id": "x", "alerts": [')).status, 400);
  assert.equal((await post(agentA, batch(agentA.id), { 'content-type': 'text/plain' })).status, 415);
  const bad = JSON.parse(batch(agentA.id, 2)) as { alerts: Record<string, unknown>[] };
  bad.alerts[1]!['severity'] = 'apocalyptic';
  const partly = await post(agentA, JSON.stringify(bad));
  assert.equal(partly.status, 400, 'one bad alert refuses the whole batch');
  assert.match(partly.body, /severity/);
  for (const body of [
    '[]', 'null', '"x"', '{"agent_id": 1}', JSON.stringify({ agent_id: agentA.id, alerts: [] }),
    JSON.stringify({ agent_id: agentA.id, alerts: [{ ...sampleAlert(1, 'not-a-uuid') }] }),
    JSON.stringify({ agent_id: agentA.id, alerts: [{ ...sampleAlert(-5, randomUUID()) }] }),
    JSON.stringify({ agent_id: agentA.id, alerts: [{ ...sampleAlert(1, randomUUID()), first_seen: 'yesterday' }] }),
    JSON.stringify({ agent_id: agentA.id, alerts: [{ ...sampleAlert(1, randomUUID()), summary: 'x'.repeat(5000) }] }),
    '{"__proto__": {"polluted": true}, "agent_id": "a", "alerts": []}',
  ]) {
    const r = await post(agentA, body);
    assert.equal(r.status, 400, `${body.slice(0, 80)} -> ${r.status} ${r.body}`);
  }
  for (let i = 0; i < 20; i++) {
    const r = await post(agentA, randomBytes(1 + Math.floor(Math.random() * 2000)));
    assert.ok(r.status >= 400 && r.status < 500, `random body -> ${r.status}`);
  }
  assert.equal(storedAlerts(), 0);
});

test('roles: an agent cannot push as a regional center or read the fleet; an analyst cannot post alerts', async () => {
  const push = await rawRequest(center.url, { ca: caPem, cert: agentA.certPem, key: agentA.keyPem, path: '/api/v1/federation/push',
    body: JSON.stringify({ now: Date.now(), alerts: [], edits: [], hosts: [] }) });
  assert.equal(push.status, 403);
  assert.match(push.body, /role_not_allowed/);
  const read = await rawRequest(center.url, { ca: caPem, cert: agentA.certPem, key: agentA.keyPem, path: '/api/v1/alerts' });
  assert.equal(read.status, 403);
  const admin = loadIdentity(join(centerDir, 'admin'));
  const asAnalyst = await post(admin, batch(admin.id));
  assert.equal(asAnalyst.status, 403);
  assert.equal(storedAlerts(), 0);
});

test('a regional center pushing malformed or hostile batches: refused whole, nothing stored', async () => {
  const region = await enrolWith(centerDir, center.url, join(work, 'region'), 'center');
  const push = (body: string | Buffer) => rawRequest(center.url, { ca: caPem, cert: region.certPem, key: region.keyPem, path: '/api/v1/federation/push', body });
  const good = { origin: 'agent-x', origin_seq: 1, alert_uuid: randomUUID(), center_id: 'r', rule_id: 'R', rule_name: 'r', severity: 'high', host: 'h', summary: 's',
    first_seen: 1, received_at: 1, body: '{}', status: 'open', assignee: null, triage_version: 0, triage_hlc: null, triage_by: null };
  const edit = { edit_id: randomUUID(), alert_uuid: good.alert_uuid, status: 'resolved', assignee: null, assignee_set: false, note: null, author: 'x',
    hlc: '000000000000001.000000.n', base_hlcs: [], origin_center: 'r', at: 1 };
  for (const body of [
    { now: 1, alerts: [{ ...good, severity: 'extreme' }], edits: [], hosts: [] },
    { now: 1, alerts: [{ ...good, alert_uuid: 'x' }], edits: [], hosts: [] },
    { now: 1, alerts: [good], edits: [{ ...edit, hlc: 'yesterday' }], hosts: [] },
    { now: 1, alerts: [good], edits: [{ ...edit, base_hlcs: Array(100).fill('a') }], hosts: [] },
    { now: 1, alerts: [good], edits: [], hosts: [{ id: 'h', role: 'analyst' }] },
    { now: 'soon', alerts: [], edits: [], hosts: [] },
    { alerts: [good] },
  ]) {
    const r = await push(JSON.stringify(body));
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 100)} -> ${r.status}`);
  }
  for (let i = 0; i < 10; i++) assert.ok((await push(randomBytes(1 + Math.floor(Math.random() * 1000)))).status >= 400);
  assert.equal(storedAlerts(), 0);
  await center.waitForLog(/reason="malformed_federation_push"/);
});

test('a revoked certificate: refused at once', async () => {
  const ok = await post(agentB, batch(agentB.id, 2));
  assert.equal(ok.status, 200, ok.body);
  assert.equal(storedAlerts(), 2, 'the same channel stores a well-formed batch');
  const rev = cli(['--data-dir', centerDir, 'center', 'revoke', agentB.id, '--reason', 'test']);
  assert.equal(rev.status, 0, rev.stderr);
  const r = await post(agentB, batch(agentB.id, 2));
  assert.equal(r.status, 403);
  assert.match(r.body, /certificate_revoked/);
  assert.equal(storedAlerts(), 2);
});

test('every refusal was recorded with its reason', async () => {
  const seen = reasons();
  for (const reason of ['no_client_certificate', 'certificate_not_trusted', 'certificate_unknown', 'identity_claim_mismatch',
    'payload_too_large', 'malformed_json', 'unsupported_media_type', 'malformed_alerts', 'certificate_revoked', 'role_not_allowed']) {
    assert.ok(seen.has(reason), `${reason} in ${[...seen].join(', ')}`);
    await center.waitForLog(new RegExp(`request refused reason="${reason}"`));
  }
});
