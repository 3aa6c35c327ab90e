// pcap_stats drops are alerted on, not only counted: when the collector reports that the capture lost
// packets, the agent raises DE-SYS-0001 (one open alert per interface, touched on each further loss)
// and records it in the audit ledger. The collector end here is the real CollectorServer on the
// agent's packet socket; the agent runs unprivileged (as it would under a service manager), so it
// connects to that socket instead of starting a collector of its own.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { CollectorServer } from '../src/collector/collector-server.ts';
import { cleanEnv, MAIN } from './cli-helpers.ts';

const NOBODY = 65534;
const work = mkdtempSync(join(tmpdir(), 'de-capdrops-'));
let agent: ChildProcess | null = null;
let server: CollectorServer | null = null;
after(async () => {
  agent?.kill('SIGKILL');
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const skip = process.getuid?.() !== 0 ? 'needs root to run the agent as another user' : false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('capture drops reported by the collector become one DE-SYS-0001 alert per interface', { skip, timeout: 60_000 }, async () => {
  chmodSync(work, 0o755);
  const dataDir = join(work, 'data');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dataDir);
  chownSync(dataDir, NOBODY, NOBODY);
  const socketPath = join(dataDir, 'collector-net.sock');
  server = new CollectorServer({ socketPath, clock: () => ({ boottimeNs: 0n, wallMs: Date.now() }) });
  await server.listen();
  chownSync(socketPath, NOBODY, NOBODY);

  agent = spawn(process.execPath, [MAIN, '--data-dir', dataDir, 'run', '--interval', '30'], {
    uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'ignore', 'pipe'],
    env: cleanEnv({
      DAEMONEYE_ENTERPRISE__NETWORK_MONITORING__ENABLE_PACKET_CAPTURE: 'true',
      DAEMONEYE_ENTERPRISE__NETWORK_MONITORING__CAPTURE_INTERFACE: 'eth-test',
      DAEMONEYE_ALERTING__STDOUT__ENABLED: 'false', HOME: work,
    }),
  });
  let log = '';
  agent.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  for (let i = 0; i < 300 && !log.includes('packet capture active'); i++) await sleep(50);
  assert.match(log, /packet capture active interface="eth-test"/);

  const alerts = () => {
    const db = new Database(join(dataDir, 'daemoneye.db'), { readonly: true });
    try {
      return db.prepare(`SELECT summary, occurrences FROM alerts WHERE rule_id = 'DE-SYS-0001'`).all() as { summary: string; occurrences: number }[];
    } finally {
      db.close();
    }
  };
  server.sendStats({ pcap_received: 1000, pcap_dropped_kernel: 0, pcap_dropped_interface: 0 });
  await sleep(300);
  assert.deepEqual(alerts(), [], 'no loss, no alert');
  server.sendStats({ pcap_received: 5000, pcap_dropped_kernel: 120, pcap_dropped_interface: 3 });
  let got = alerts();
  for (let i = 0; i < 100 && got.length === 0; i++) {
    await sleep(50);
    got = alerts();
  }
  assert.equal(got.length, 1);
  assert.match(got[0]!.summary, /packet capture on eth-test lost 120 packets in the kernel buffer, 3 at the interface/);
  server.sendStats({ pcap_received: 9000, pcap_dropped_kernel: 150, pcap_dropped_interface: 3 });
  for (let i = 0; i < 100 && (got[0]?.occurrences ?? 0) < 2; i++) {
    await sleep(50);
    got = alerts();
  }
  assert.equal(got.length, 1, 'a further loss touches the open alert');
  assert.equal(got[0]!.occurrences, 2);
  const db = new Database(join(dataDir, 'daemoneye.db'), { readonly: true });
  const ledger = db.prepare(`SELECT count(*) AS n FROM ledger_entries WHERE kind = 'monitor' AND entry LIKE '%capture_drops%'`).get() as { n: number };
  db.close();
  assert.equal(ledger.n, 2, 'each loss is in the audit ledger');
  const exited = new Promise((r) => agent!.once('exit', r));
  agent.kill('SIGTERM');
  await exited;
});
