// Network rows age out with the store's retention like kernel events: by age, and oldest first
// under size pressure. Rows are written by the production writer from decoded packets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PacketAnalyzer } from '../src/network/analyzer.ts';
import { NO_ATTRIBUTION } from '../src/network/attribution/attributor.ts';
import { NetworkStoreWriter } from '../src/network/store-writer.ts';
import { LinkType } from '../src/sources/pcap/batch-format.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import { applyRetention } from '../src/store/retention.ts';
import { dnsAnswer, dnsQuery } from './net-decode-helpers.ts';
import { batchOf, ipv4, tcp, udp } from './net-decode-packets.ts';

const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-retention-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('flows, DNS, TLS and HTTP rows older than retention_days are deleted, newer ones kept', () => {
  const db = openStoreForWriting(join(dir, 'daemoneye.db'));
  try {
    const writer = new NetworkStoreWriter(db);
    const day = 86_400;
    const now = 1_767_225_600;
    for (const start of [now - 40 * day, now - 1 * day]) {
      const a = new PacketAnalyzer();
      a.ingest({ linktype: LinkType.RAW, data: batchOf([
        ipv4('10.0.0.5', '192.0.2.53', 17, udp(30000, 53, dnsQuery(1, 'old-or-new.example.test', 1))),
        ipv4('192.0.2.53', '10.0.0.5', 17, udp(53, 30000, dnsAnswer(dnsQuery(1, 'old-or-new.example.test', 1)))),
        ipv4('10.0.0.5', '198.51.100.1', 6, tcp(40000, 8080, 0x18, 1, Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n'))),
      ], start, 0) });
      a.flush();
      writer.write(a.drain(), 'test', NO_ATTRIBUTION);
    }
    const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    assert.deepEqual(['network_flows', 'dns_queries', 'http_requests'].map(count), [4, 2, 2]);
    applyRetention(db, { maxAgeDays: 30, maxSizeBytes: 1 << 30 }, now * 1000);
    assert.deepEqual(['network_flows', 'dns_queries', 'http_requests'].map(count), [2, 1, 1]);
  } finally {
    db.close();
  }
});
