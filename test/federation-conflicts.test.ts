// Each conflict policy with concurrent triage edits at a primary and a regional center whose clock
// is 10 minutes fast (separate processes, real TLS). The region's HLC stamps are corrected by the
// offset it measures to the primary at each sync, so its clock does not win timestamp_wins; a
// concurrent edit never silently reopens a closed alert; manual_review parks both versions until
// an analyst picks one, after which both centers converge.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { api, CenterProcess, cliAsync, enrolWith, freePort, initCenterDir, rawRequest, sampleAlert, tlsOf } from '../src/center/testing/center-harness.ts';
import { loadIdentity, type Identity } from '../src/center-client/identity.ts';

const work = mkdtempSync(join(tmpdir(), 'de-fed-conflicts-'));
const centers: CenterProcess[] = [];
after(async () => {
  for (const c of centers) await c.stop();
  rmSync(work, { recursive: true, force: true });
});

const SKEW_MS = 10 * 60_000;
type AlertView = { alert_uuid: string; status: string; assignee: string | null };

async function pair(policy: string) {
  const base = join(work, policy);
  const pPort = await freePort();
  const rPort = await freePort();
  await initCenterDir(join(base, 'p'), pPort);
  await initCenterDir(join(base, 'r'), rPort);
  const pConfig = join(base, 'p.yaml');
  writeFileSync(pConfig, `enterprise:\n  federation:\n    enable_federation: true\n    conflict_resolution: ${policy}\n`);
  const primary = new CenterProcess(join(base, 'p'), pPort, { args: ['--config', pConfig] });
  centers.push(primary);
  await primary.start();
  await enrolWith(primary.dataDir, primary.url, join(base, 'r'), 'center');
  const rConfig = join(base, 'r.yaml');
  writeFileSync(rConfig, `enterprise:\n  federation:\n    enable_federation: true\n    primary_endpoint: ${primary.url}\n    sync_interval: 3600\n    conflict_resolution: ${policy}\n`);
  const region = new CenterProcess(join(base, 'r'), rPort, { args: ['--config', rConfig], env: { TEST_CLOCK_SKEW_MS: String(SKEW_MS) } });
  centers.push(region);
  await region.start();
  // An agent of the region posts three alerts.
  const agent = await enrolWith(region.dataDir, region.url, join(base, 'agent'));
  const uuids = [randomUUID(), randomUUID(), randomUUID()];
  const posted = await rawRequest(region.url, { ...tlsOf(agent), path: '/api/v1/alerts', body: JSON.stringify({ agent_id: agent.id, alerts: uuids.map((u, i) => sampleAlert(i + 1, u)) }) });
  assert.equal(posted.status, 200, posted.body);
  const p = loadIdentity(join(primary.dataDir, 'admin'));
  const r = loadIdentity(join(region.dataDir, 'admin'));
  const sync = async () => assert.equal((await api<{ ok: boolean; error?: string }>(region.url, r, 'POST', '/api/v1/federation/sync', {})).ok, true);
  await sync();
  return { primary, region, p, r, uuids, sync };
}

const edit = (c: CenterProcess, who: Identity, uuid: string, body: Record<string, unknown>) => api<AlertView>(c.url, who, 'PATCH', `/api/v1/alerts/${uuid}`, body);
const read = (c: CenterProcess, who: Identity, uuid: string) => api<AlertView>(c.url, who, 'GET', `/api/v1/alerts/${uuid}`);
const conflicts = (c: CenterProcess, who: Identity) => api<{ conflicts: { id: number; alert_uuid: string }[] }>(c.url, who, 'GET', '/api/v1/federation/conflicts');
const pause = () => new Promise((res) => setTimeout(res, 20));

test('primary_wins: concurrent edits converge to the primary\'s', { timeout: 120_000 }, async () => {
  const { primary, region, p, r, uuids: [a], sync } = await pair('primary_wins');
  await edit(primary, p, a!, { assignee: 'primary-analyst', status: 'acknowledged' });
  await pause();
  await edit(region, r, a!, { assignee: 'region-analyst' }); // later, and the region's clock is fast too
  await sync();
  await sync();
  for (const [c, who] of [[primary, p], [region, r]] as const) assert.equal((await read(c, who, a!)).assignee, 'primary-analyst');

  // An authored change reaches the region at once (its long poll), not at its next round (an hour here).
  await api(primary.url, p, 'PUT', '/api/v1/objects/rule/URGENT-1', { body: { yaml: 'id: URGENT-1' }, deleted: false });
  const until = Date.now() + 30_000;
  for (;;) {
    const rules = await api<{ rules: { id: string }[] }>(region.url, r, 'GET', '/api/v1/rules');
    if (rules.rules.some((x) => x.id === 'URGENT-1')) break;
    assert.ok(Date.now() < until, 'the region should pull the change without waiting for sync_interval');
    await new Promise((res) => setTimeout(res, 200));
  }
});

test('timestamp_wins by HLC: a region 10 minutes fast does not win for it; the later edit does; a closed alert is not reopened', { timeout: 120_000 }, async () => {
  const { primary, region, p, r, uuids: [a, b, c], sync } = await pair('timestamp_wins');
  const status = await api<{ clock_offset_ms: number }>(region.url, r, 'GET', '/api/v1/federation/status');
  assert.ok(Math.abs(status.clock_offset_ms + SKEW_MS) < 5_000, `the region measured its offset to the primary (${status.clock_offset_ms} ms)`);
  // a: the region edits first, the primary later (in real time).
  await edit(region, r, a!, { assignee: 'region-analyst' });
  await pause();
  await edit(primary, p, a!, { assignee: 'primary-analyst' });
  // b: the other way round.
  await edit(primary, p, b!, { assignee: 'primary-analyst' });
  await pause();
  await edit(region, r, b!, { assignee: 'region-analyst' });
  // c: closed at the primary, then acknowledged (later) at the region which had not seen the closing.
  await edit(primary, p, c!, { status: 'resolved' });
  await pause();
  await edit(region, r, c!, { status: 'acknowledged' });
  await sync();
  await sync();
  for (const [center, who] of [[primary, p], [region, r]] as const) {
    assert.equal((await read(center, who, a!)).assignee, 'primary-analyst', 'the later edit wins, not the faster clock');
    assert.equal((await read(center, who, b!)).assignee, 'region-analyst');
  }
  assert.equal((await read(primary, p, c!)).status, 'resolved', 'never silently reopened');
  assert.deepEqual((await conflicts(primary, p)).conflicts.map((x) => x.alert_uuid), [c], 'parked for an analyst instead');
});

test('manual_review: both versions parked on both sides until an analyst picks one; then both converge', { timeout: 120_000 }, async () => {
  const { primary, region, p, r, uuids: [a], sync } = await pair('manual_review');
  await edit(primary, p, a!, { assignee: 'primary-analyst' });
  await edit(region, r, a!, { assignee: 'region-analyst' });
  await sync();
  await sync();
  assert.equal((await read(primary, p, a!)).assignee, 'primary-analyst', 'unchanged until reviewed');
  assert.equal((await read(region, r, a!)).assignee, 'region-analyst');
  const parked = (await conflicts(primary, p)).conflicts;
  assert.equal(parked.length, 1);
  assert.equal((await conflicts(region, r)).conflicts.length, 1);
  // Through the CLI, as an analyst on the primary's host would.
  const listed = await cliAsync(['--data-dir', primary.dataDir, 'center', 'conflicts', '--center', primary.url, '--format', 'json']);
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as { id: number }[]).map((c) => c.id), [parked[0]!.id]);
  const resolved = await cliAsync(['--data-dir', primary.dataDir, 'center', 'resolve', String(parked[0]!.id), '--keep', 'remote', '--center', primary.url]);
  assert.equal(resolved.status, 0, resolved.stderr);
  await sync();
  for (const [center, who] of [[primary, p], [region, r]] as const) {
    assert.equal((await read(center, who, a!)).assignee, 'region-analyst');
    assert.equal((await conflicts(center, who)).conflicts.length, 0, 'the conflict is closed on both sides');
  }
});
