// A fleet query asked at the primary reaches an agent under a regional center (the region pulls it
// at its sync, the agent takes it with its heartbeat) and the agent's answer comes back up: the
// primary's merged answer names the agent, its host and the region it answered through.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { api, CenterProcess, cliAsync, enrolWith, freePort, initCenterDir } from '../src/center/testing/center-harness.ts';
import { loadIdentity } from '../src/center-client/identity.ts';

const work = mkdtempSync(join(tmpdir(), 'de-fed-query-'));
const centers: CenterProcess[] = [];
after(async () => {
  for (const c of centers) await c.stop();
  rmSync(work, { recursive: true, force: true });
});

test('a fleet query through a regional center: asked at the primary, answered by the region\'s agent', { timeout: 120_000 }, async () => {
  const [pPort, rPort] = [await freePort(), await freePort()];
  await initCenterDir(join(work, 'p'), pPort);
  await initCenterDir(join(work, 'r'), rPort);
  const primary = new CenterProcess(join(work, 'p'), pPort);
  centers.push(primary);
  await primary.start();
  const regionId = (await enrolWith(primary.dataDir, primary.url, join(work, 'r'), 'center')).id;
  const rConfig = join(work, 'r.yaml');
  writeFileSync(rConfig, `enterprise:\n  federation:\n    enable_federation: true\n    primary_endpoint: ${primary.url}\n    sync_interval: 3600\n`);
  const region = new CenterProcess(join(work, 'r'), rPort, { args: ['--config', rConfig] });
  centers.push(region);
  await region.start();
  const agentDir = join(work, 'agent');
  const agent = await enrolWith(region.dataDir, region.url, agentDir);
  const config = join(work, 'agent.yaml');
  writeFileSync(config, 'detection:\n  builtin_rules: false\nalerting:\n  stdout: { enabled: false }\n');
  const runOnce = async () => {
    const r = await cliAsync(['--config', config, '--data-dir', agentDir, 'run', '--once']);
    assert.equal(r.status, 0, r.stderr);
    return r.stderr;
  };
  const p = loadIdentity(join(primary.dataDir, 'admin'));
  const r = loadIdentity(join(region.dataDir, 'admin'));
  const sync = async () => assert.equal((await api<{ ok: boolean }>(region.url, r, 'POST', '/api/v1/federation/sync', {})).ok, true);

  await runOnce(); // the agent is alive at the region...
  await sync(); // ...and, through the region's host inventory, at the primary
  const asked = await api<{ query_id: string; expected_agents: number }>(primary.url, p, 'POST', '/api/v1/queries', { sql: "SELECT 'hello' AS greeting, count(*) AS n FROM scans", timeout_s: 120 });
  assert.equal(asked.expected_agents, 1);
  await sync(); // the region pulls the query
  assert.match(await runOnce(), /fleet query answered/);
  await sync(); // the answer goes up
  const answer = await api<{ state: string; answers: { agent_id: string; center_id: string; rows: { greeting: string; n: number }[] }[] }>(primary.url, p, 'GET', `/api/v1/queries/${asked.query_id}`);
  assert.equal(answer.state, 'complete');
  assert.equal(answer.answers.length, 1);
  assert.equal(answer.answers[0]!.agent_id, agent.id);
  assert.equal(answer.answers[0]!.center_id, regionId);
  assert.equal(answer.answers[0]!.rows[0]!.greeting, 'hello');
  assert.ok(answer.answers[0]!.rows[0]!.n >= 2);
});
