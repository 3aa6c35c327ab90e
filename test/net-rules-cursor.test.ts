// Network rules see decoded packets through new_* views with per-rule cursors: a rule reads each row
// once, runs on the 'network' trigger only, and must be an event rule. Rows come from the analyzer
// and the store writer, as in production, into a real store file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AlertRecorder } from '../src/alerts/alert-recorder.ts';
import { loadRuleFile, openRuleSchemaDb } from '../src/detect/sql/load-rules.ts';
import type { RuleCursor } from '../src/detect/detector.ts';
import { SqlDetector } from '../src/detect/sql/sql-detector.ts';
import { PacketAnalyzer } from '../src/network/analyzer.ts';
import { NO_ATTRIBUTION } from '../src/network/attribution/attributor.ts';
import { NetworkStoreWriter } from '../src/network/store-writer.ts';
import { LinkType } from '../src/sources/pcap/batch-format.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import { dnsAnswer, dnsQuery } from './net-decode-helpers.ts';
import { batchOf, ipv4, udp } from './net-decode-packets.ts';

const dir = mkdtempSync(join(tmpdir(), 'daemoneye-net-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RULE = `id: T-NET-1
name: every new DNS query
version: 1
description: test rule
severity: low
attack: [T1071.004]
kind: event
sql: |
  SELECT query_name, 'q:' || id AS dedup_key FROM new_dns_queries
`;

function writeQueries(db: ReturnType<typeof openStoreForWriting>, names: string[]): void {
  const a = new PacketAnalyzer();
  const packets = names.flatMap((n, i) => [
    ipv4('10.0.0.5', '192.0.2.53', 17, udp(30000 + i, 53, dnsQuery(i, n, 1))),
    ipv4('192.0.2.53', '10.0.0.5', 17, udp(53, 30000 + i, dnsAnswer(dnsQuery(i, n, 1)))),
  ]);
  a.ingest({ linktype: LinkType.RAW, data: batchOf(packets) });
  a.flush();
  new NetworkStoreWriter(db).write(a.drain(), 'test', NO_ATTRIBUTION);
}

const HEADS = `SELECT 0 AS lifecycle, 0 AS exec, 0 AS exit, 0 AS connection, 0 AS security,
  (SELECT coalesce(max(id), 0) FROM network_flows) AS flow, (SELECT coalesce(max(id), 0) FROM dns_queries) AS dns,
  (SELECT coalesce(max(id), 0) FROM tls_handshakes) AS tls, (SELECT coalesce(max(id), 0) FROM http_requests) AS http`;

test('a network rule reads each decoded row once, on the network trigger only', async () => {
  const ruleFile = join(dir, 'rule.yaml');
  writeFileSync(ruleFile, RULE);
  const schema = openRuleSchemaDb();
  const rule = loadRuleFile(ruleFile, schema);
  schema.close();
  const dbPath = join(dir, 'daemoneye.db');
  const db = openStoreForWriting(dbPath);
  const recorder = new AlertRecorder(db, 'test-host');
  recorder.syncRules([rule], () => 'sha');
  const detector = new SqlDetector({ dbPath, rules: [rule], timeoutMs: 10_000, maxRowsPerRule: 100 });
  const pass = async (trigger: 'scan' | 'kernel' | 'network') => {
    const run = await detector.detect({ trigger, scanId: null, heads: db.prepare(HEADS).get() as RuleCursor, cursors: recorder.cursors() });
    recorder.record(run, null);
    return run.findings.map((f) => f.row['query_name']);
  };
  try {
    writeQueries(db, ['a.example.test', 'b.example.test']);
    assert.deepEqual(await pass('scan'), [], 'scan passes do not run network rules');
    assert.deepEqual(await pass('kernel'), [], 'kernel passes do not run network rules');
    assert.deepEqual((await pass('network')).sort(), ['a.example.test', 'b.example.test']);
    assert.deepEqual(await pass('network'), [], 'the cursor moved past what the rule saw');
    writeQueries(db, ['c.example.test']);
    assert.deepEqual(await pass('network'), ['c.example.test']);
    const cursor = recorder.cursors().get('T-NET-1')!;
    assert.equal(cursor.dns, 3);
    assert.equal(cursor.flow, 3);
  } finally {
    await detector.close();
    db.close();
  }
});

test('a rule over the network views must be an event rule', () => {
  const ruleFile = join(dir, 'state.yaml');
  writeFileSync(ruleFile, RULE.replace('kind: event', 'kind: state'));
  const schema = openRuleSchemaDb();
  try {
    assert.throws(() => loadRuleFile(ruleFile, schema), (e: Error & { code?: string }) => e.code === 'DE_RULE_PARSE' && /kind: event/.test(e.message));
  } finally {
    schema.close();
  }
});
