// The STIX detector end to end on a real store: indicators in intel_indicators (as TAXII sync writes
// them), events in the agent's tables, findings turned into alerts by the real AlertRecorder,
// sightings folded, validity windows, revocation and reloads honoured, the cursor persisted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openStoreForWriting, type Db } from '../src/store/open-store.ts';
import { AlertRecorder } from '../src/alerts/alert-recorder.ts';
import type { DetectionContext, RuleCursor } from '../src/detect/detector.ts';
import { IntelDetector, indicatorSeverity } from '../src/intel/match/intel-detector.ts';

/** Inserts a row, filling NOT NULL columns the test does not care about with 0 or ''. */
function insert(db: Db, table: string, values: Record<string, unknown>): number {
  const cols = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string; notnull: number; dflt_value: unknown; pk: number }[];
  // process_exec is a view (migration 41), which reports no NOT NULL: its rows table knows them.
  const rowsTable = new Map((db.prepare(`PRAGMA table_info(${table}_rows)`).all() as typeof cols).map((c) => [c.name, c]));
  const row: Record<string, unknown> = {};
  for (const view of cols) {
    const c = rowsTable.get(view.name) ?? view;
    if (c.name in values) row[c.name] = values[c.name];
    else if (c.notnull === 1 && c.dflt_value === null && c.pk === 0) row[c.name] = c.type === 'TEXT' ? '' : 0;
  }
  const names = Object.keys(row);
  const r = db.prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => '@' + n).join(', ')})`).run(
    Object.fromEntries(names.map((n) => [n, typeof row[n] === 'object' && row[n] !== null ? JSON.stringify(row[n]) : row[n]])));
  return Number(r.lastInsertRowid);
}

const NOW = Date.UTC(2026, 10, 28, 12);
const HASH = createHash('sha256').update('evil').digest('hex');

function indicator(db: Db, id: string, pattern: string, extra: Record<string, unknown> = {}): void {
  insert(db, 'intel_indicators', {
    indicator_id: id, feed_id: 'test', modified: '2026-11-01T00:00:00Z', name: `name of ${id}`, pattern, pattern_type: 'stix',
    valid_from: NOW - 86_400_000, valid_until: null, revoked: 0, labels: ['malicious-activity'],
    kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }], confidence: 60,
    object: { type: 'indicator', id, external_references: [{ source_name: 'mitre-attack', external_id: 'T1071' }] }, added_at: NOW, compile_error: null, ...extra,
  });
}

function heads(db: Db): RuleCursor {
  return db.prepare(`SELECT (SELECT coalesce(max(id), 0) FROM process_lifecycle) AS lifecycle,
    (SELECT coalesce(max(id), 0) FROM process_exec) AS exec, (SELECT coalesce(max(id), 0) FROM process_exit) AS exit,
    (SELECT coalesce(max(id), 0) FROM network_connections) AS connection, (SELECT coalesce(max(id), 0) FROM process_security_events) AS security,
    (SELECT coalesce(max(id), 0) FROM network_flows) AS flow, (SELECT coalesce(max(id), 0) FROM dns_queries) AS dns,
    (SELECT coalesce(max(id), 0) FROM tls_handshakes) AS tls, (SELECT coalesce(max(id), 0) FROM http_requests) AS http`).get() as RuleCursor;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'de-intel-det-'));
  const path = join(dir, 'daemoneye.db');
  const db = openStoreForWriting(path);
  let clock = NOW;
  const detector = new IntelDetector({ dbPath: path, host: 'host-1', now: () => clock, reloadCheckMs: 0 });
  const recorder = new AlertRecorder(db, 'host-1');
  const run = async (trigger: 'scan' | 'kernel' = 'kernel', scanId: number | null = null) => {
    const context: DetectionContext = { trigger, scanId, heads: heads(db), cursors: recorder.cursors() };
    const r = await detector.detect(context);
    const raised = recorder.record(r, scanId);
    return { run: r, raised };
  };
  return { db, detector, run, advance: (ms: number) => { clock += ms; } };
}

const net = { protocol: 'udp', ip_version: 4, client_address: '10.0.0.5', client_port: 53000, server_address: '10.0.0.1', server_port: 53, attribution: 'kernel', capture_source: 'live:eth0' };

test('indicator matches become DE-INTEL alerts with the indicator in the evidence, and sightings', async () => {
  const { db, detector, run } = setup();
  indicator(db, 'indicator--hash', `[file:hashes.'SHA-256' = '${HASH.toUpperCase()}']`, { labels: ['malicious-activity'], confidence: 90 });
  indicator(db, 'indicator--c2', "[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND network-traffic:dst_port = 4444]");
  indicator(db, 'indicator--dns', "[domain-name:value = 'c2.evil.example']", { labels: ['anomalous-activity'], confidence: null });
  indicator(db, 'indicator--url', "[url:value = 'http://dl.evil.example/stage2.sh']");
  indicator(db, 'indicator--seq', "([process:name = 'curl'] FOLLOWEDBY [process:name = 'chmod']) WITHIN 60 SECONDS");
  // None of these may match: expired, revoked, not yet valid, failed to compile, not a STIX pattern.
  indicator(db, 'indicator--expired', "[domain-name:value = 'c2.evil.example']", { valid_until: NOW - 1000 });
  indicator(db, 'indicator--revoked', "[domain-name:value = 'c2.evil.example']", { revoked: 1 });
  indicator(db, 'indicator--future', "[domain-name:value = 'c2.evil.example']", { valid_from: NOW + 3_600_000 });
  indicator(db, 'indicator--broken', "[domain-name:value = ]", { compile_error: 'DE_STIX_PATTERN: column 22' });
  indicator(db, 'indicator--sigma', "title: x", { pattern_type: 'sigma' });

  const scanId = insert(db, 'scans', { host: 'host-1', started_at: NOW, status: 'complete' });
  insert(db, 'process_snapshots', { scan_id: scanId, pid: 4242, ppid: 1, name: 'miner', executable_path: '/tmp/.x/miner', command_line: '/tmp/.x/miner -o pool', start_time: NOW - 5000, executable_hash: HASH, hash_algorithm: 'sha256', user_id: 1000, collection_time: NOW });
  insert(db, 'process_lifecycle', { scan_id: scanId, event: 'start', pid: 4242, ppid: 1, name: 'miner', executable_path: '/tmp/.x/miner', command_line: '/tmp/.x/miner -o pool', user_id: 1000, start_time: NOW - 5000, detected_at: NOW });
  insert(db, 'network_connections', { time: NOW + 1, event: 'connect', pid: 4242, comm: 'miner', family: 4, protocol: 'tcp', local_address: '10.0.0.5', local_port: 40000, remote_address: '203.0.113.77', remote_port: 4444 });
  insert(db, 'network_connections', { time: NOW + 2, event: 'connect', pid: 4242, comm: 'miner', family: 4, protocol: 'tcp', local_address: '10.0.0.5', local_port: 40001, remote_address: '203.0.113.77', remote_port: 443 });
  insert(db, 'dns_queries', { ...net, time: NOW + 3, pid: 77, process_name: 'resolver', transaction_id: 1, query_name: 'C2.evil.example.', query_type: 'A', answers: [{ name: 'c2.evil.example', type: 'A', ttl: 60, data: '203.0.113.9' }], subdomain: 'c2', subdomain_length: 2, subdomain_entropy: 1 });
  insert(db, 'http_requests', { ...net, protocol: 'tcp', server_port: 80, time: NOW + 4, method: 'GET', host: 'dl.evil.example', path: '/stage2.sh', has_query: 0, version: '1.1' });
  insert(db, 'process_exec', { time: NOW + 10_000, pid: 500, ppid: 1, comm: 'curl', filename: '/usr/bin/curl', argv: '[]', command_line: 'curl -O http://x', user_id: 1000 });
  insert(db, 'process_exec', { time: NOW + 20_000, pid: 501, ppid: 1, comm: 'chmod', filename: '/usr/bin/chmod', argv: '[]', command_line: 'chmod +x stage2.sh', user_id: 1000 });

  const { run: r, raised } = await run('scan', scanId);
  assert.equal(r.outcomes[0]!.status, 'ok', r.outcomes[0]!.error ?? '');
  const byIndicator = new Map(raised.map((a) => [a.evidence['indicator_id'] as string, a]));
  assert.deepEqual([...byIndicator.keys()].sort(), ['indicator--c2', 'indicator--dns', 'indicator--hash', 'indicator--seq', 'indicator--url']);
  assert.equal(detector.stats.indicators, 5);

  const hash = byIndicator.get('indicator--hash')!;
  assert.equal(hash.rule_id, 'DE-INTEL');
  assert.equal(hash.severity, 'critical');
  assert.deepEqual(hash.attack_ids, ['T1071']);
  assert.equal(hash.pid, 4242);
  assert.equal(hash.evidence['indicator_name'], 'name of indicator--hash');
  assert.deepEqual(hash.evidence['labels'], ['malicious-activity']);
  assert.deepEqual(hash.evidence['kill_chain_phases'], [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }]);
  const observables = hash.evidence['observables'] as { type: string; hashes?: Record<string, string> }[];
  assert.equal(observables[0]!.type, 'file');
  assert.equal(observables[0]!.hashes!['SHA-256'], HASH);
  assert.equal(byIndicator.get('indicator--dns')!.severity, 'medium');
  assert.match(byIndicator.get('indicator--c2')!.summary, /STIX indicator matched: name of indicator--c2/);

  const sightings = db.prepare('SELECT indicator_id, count, object FROM intel_sightings ORDER BY indicator_id').all() as { indicator_id: string; count: number; object: string }[];
  assert.deepEqual(sightings.map((s) => s.indicator_id), ['indicator--c2', 'indicator--dns', 'indicator--hash', 'indicator--seq', 'indicator--url']);
  const stix = JSON.parse(sightings[0]!.object) as Record<string, unknown>;
  assert.equal(stix['type'], 'sighting');
  assert.equal(stix['sighting_of_ref'], 'indicator--c2');
  assert.match(String(stix['id']), /^sighting--[0-9a-f-]{36}$/);

  // Nothing new: nothing raised (the cursor was stored with the outcome); the sightings now name their alerts.
  assert.equal((await run()).raised.length, 0);
  const linked = db.prepare('SELECT s.alert_uuid AS s, a.alert_uuid AS a FROM intel_sightings s JOIN alerts a ON json_extract(a.evidence, \'$.sighting_id\') = s.sighting_id').all() as { s: string | null; a: string }[];
  assert.equal(linked.length, 5);
  for (const l of linked) assert.equal(l.s, l.a);

  // The same domain again: the alert for that resolver process is new (no pid start), the sighting folds.
  insert(db, 'dns_queries', { ...net, time: NOW + 30_000, pid: 78, process_name: 'resolver2', transaction_id: 2, query_name: 'c2.evil.example', query_type: 'A', subdomain: 'c2', subdomain_length: 2, subdomain_entropy: 1 });
  const again = await run();
  assert.equal(again.run.findings.length, 1);
  const folded = db.prepare("SELECT count, first_seen, last_seen, object FROM intel_sightings WHERE indicator_id = 'indicator--dns'").all() as { count: number; first_seen: number; last_seen: number; object: string }[];
  assert.equal(folded.length, 1);
  assert.equal(folded[0]!.count, 2);
  assert.equal(folded[0]!.last_seen, NOW + 30_000);
  assert.equal((JSON.parse(folded[0]!.object) as { count: number }).count, 2);
  await detector.close();
});

test('revocation, newer versions and validity boundaries reload the indicators', async () => {
  const { db, detector, run, advance } = setup();
  indicator(db, 'indicator--a', "[domain-name:value = 'a.evil.example']", { valid_until: NOW + 60_000 });
  const dnsRow = (name: string, t: number) => insert(db, 'dns_queries', { ...net, time: t, transaction_id: 1, query_name: name, query_type: 'A', subdomain: 'a', subdomain_length: 1, subdomain_entropy: 0 });
  dnsRow('a.evil.example', NOW);
  assert.equal((await run()).run.findings.length, 1);
  // A newer version of the indicator (TAXII sync replaces the row) names another domain.
  db.prepare("UPDATE intel_indicators SET pattern = ?, modified = '2026-11-02T00:00:00Z', added_at = ? WHERE indicator_id = 'indicator--a'")
    .run("[domain-name:value = 'b.evil.example']", NOW + 1);
  dnsRow('a.evil.example', NOW + 1000);
  dnsRow('b.evil.example', NOW + 1001);
  const v2 = await run();
  assert.deepEqual(v2.run.findings.map((f) => (f.row['observables'] as { value: string }[])[0]!.value), ['b.evil.example']);
  // After valid_until it no longer matches, without any change to the table.
  advance(61_000);
  dnsRow('b.evil.example', NOW + 62_000);
  assert.equal((await run()).run.findings.length, 0);
  assert.equal(detector.stats.indicators, 0);
  // Revoked: gone as well.
  indicator(db, 'indicator--r', "[domain-name:value = 'r.evil.example']");
  dnsRow('r.evil.example', NOW + 63_000);
  assert.equal((await run()).run.findings.length, 1);
  db.prepare("UPDATE intel_indicators SET revoked = 1, added_at = ? WHERE indicator_id = 'indicator--r'").run(NOW + 64_000);
  dnsRow('r.evil.example', NOW + 65_000);
  assert.equal((await run()).run.findings.length, 0);
  await detector.close();
});

test('severity follows labels and confidence', () => {
  assert.equal(indicatorSeverity(['malicious-activity'], null), 'high');
  assert.equal(indicatorSeverity(['malicious-activity'], 95), 'critical');
  assert.equal(indicatorSeverity(['anomalous-activity'], null), 'medium');
  assert.equal(indicatorSeverity(['benign'], 10), 'low');
  assert.equal(indicatorSeverity([], 20), 'low');
  assert.equal(indicatorSeverity(['compromised'], 50), 'high');
});
