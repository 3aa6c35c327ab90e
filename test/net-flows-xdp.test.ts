// XDP flow accounting: cumulative per-direction counters from the kernel become NetFlow-like
// records (paired directions, deltas per active interval, idle end, bounded memory), and in xdp
// mode the monitor names each flow's application from the content-filtered packets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { XdpFlowTable } from '../src/network/flows/xdp-flow-table.ts';
import { NetworkMonitor } from '../src/network/monitor.ts';
import type { FlowRecord } from '../src/network/records.ts';
import type { FlowCounter } from '../src/sources/pcap/flow-records.ts';
import { LinkType } from '../src/sources/pcap/batch-format.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import { batchOf, ipv4, tcp } from './net-decode-packets.ts';

const T = 1_767_225_600_000;
const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-xdp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function counter(out: boolean, packets: number, bytes: number, last: number, flags = 0x18): FlowCounter {
  return {
    family: 4, protocol: 6, vlan: 0, srcAddr: out ? '10.0.0.5' : '198.51.100.10', dstAddr: out ? '198.51.100.10' : '10.0.0.5',
    srcPort: out ? 40000 : 443, dstPort: out ? 443 : 40000, packets, bytes, firstSeenMs: T, lastSeenMs: last, tcpFlags: flags,
    directions: out ? 2 : 1,
  };
}

test('both directions pair into one flow; active intervals export deltas; the idle end exports the rest', () => {
  const records: FlowRecord[] = [];
  const table = new XdpFlowTable({ idleTimeoutMs: 60_000, activeTimeoutMs: 300_000, maxFlows: 100 }, (r) => records.push(r));
  table.update([counter(true, 10, 10 * 114, T + 1000), counter(false, 8, 8 * 1514, T + 1000)], T + 1000);
  table.update([counter(true, 30, 30 * 114, T + 200_000), counter(false, 40, 40 * 1514, T + 200_000)], T + 200_000);
  table.update([counter(true, 31, 31 * 114, T + 301_000), counter(false, 41, 41 * 1514, T + 301_000)], T + 301_000);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.endReason, 'active');
  assert.equal(records[0]!.clientPort, 40000);
  assert.equal(records[0]!.serverPort, 443);
  assert.equal(records[0]!.packetsToServer, 31);
  assert.equal(records[0]!.bytesToServer, 31 * 100, 'Ethernet headers are not counted');
  assert.equal(records[0]!.packetsToClient, 41);
  assert.equal(records[0]!.startTime, T);
  table.update([counter(true, 35, 35 * 114, T + 310_000), counter(false, 50, 50 * 1514, T + 310_000)], T + 310_000);
  table.update([], T + 400_000);
  assert.equal(records.length, 2);
  assert.deepEqual([records[1]!.endReason, records[1]!.packetsToServer, records[1]!.packetsToClient, records[1]!.bytesToClient], ['idle', 4, 9, 9 * 1500]);
  assert.equal(table.size, 0);
});

test('the XDP table is bounded: the least recently changed flow is evicted and counted', () => {
  const records: FlowRecord[] = [];
  const table = new XdpFlowTable({ idleTimeoutMs: 60_000, activeTimeoutMs: 300_000, maxFlows: 10 }, (r) => records.push(r));
  for (let i = 0; i < 25; i++) table.update([{ ...counter(true, 1, 114, T + i), srcPort: 30000 + i }], T + i);
  assert.equal(table.size, 10);
  assert.equal(table.evictions, 15);
  assert.deepEqual(records.slice(0, 2).map((r) => r.clientPort), [30000, 30001]);
});

test('xdp mode: flow rows come from the counters and carry the application seen in the packets', () => {
  const db = openStoreForWriting(join(dir, 'daemoneye.db'));
  try {
    const monitor = new NetworkMonitor(db, { source: 'live:lo', attribution: 'none', flowSource: 'xdp' });
    const req = Buffer.from('GET /x HTTP/1.1\r\nHost: xdp.example.test\r\n\r\n');
    monitor.ingest({ linktype: LinkType.RAW, data: batchOf([
      ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40000, 443, 0x02, 1)),
      ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40000, 443, 0x18, 2, req)),
      ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40000, 443, 0x11, 3)),
      ipv4('198.51.100.10', '10.0.0.5', 6, tcp(443, 40000, 0x11, 3)),
    ], T / 1000, 0) });
    monitor.tick(T + 5_000); // the packet path's flow ends (FIN linger) and lends its content
    monitor.mergeCounters([counter(true, 100, 100 * 114, T + 1000), counter(false, 200, 200 * 1514, T + 1000)], T + 1000);
    monitor.flush();
    const rows = db.prepare('SELECT packets_to_server, packets_to_client, application, server_name, end_reason FROM network_flows').all();
    assert.deepEqual(rows, [{ packets_to_server: 100, packets_to_client: 200, application: 'http', server_name: 'xdp.example.test', end_reason: 'end_of_capture' }]);
    assert.equal((db.prepare('SELECT count(*) AS n FROM http_requests').get() as { n: number }).n, 1);
  } finally {
    db.close();
  }
});

test('XDP rows carry the same Community ID as the packet path computes for the flow', async () => {
  const { PacketAnalyzer } = await import('../src/network/analyzer.ts');
  const a = new PacketAnalyzer();
  a.ingest({ linktype: LinkType.RAW, data: batchOf([ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40000, 443, 0x02, 1))], T / 1000, 0) });
  a.flush();
  const fromPackets = a.drain().flows[0]!.communityId;
  const records: FlowRecord[] = [];
  const table = new XdpFlowTable({ idleTimeoutMs: 60_000, activeTimeoutMs: 300_000, maxFlows: 10 }, (r) => records.push(r));
  table.update([counter(true, 1, 114, T)], T);
  table.flush();
  assert.match(String(fromPackets), /^1:[A-Za-z0-9+/]{27}=$/);
  assert.equal(records[0]!.communityId, fromPackets);
});
