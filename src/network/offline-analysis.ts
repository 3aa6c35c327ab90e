// `daemoneye net read FILE`: a capture file through the same path as live capture (decode, flows,
// tables in the store of --data-dir), then the network rules over the new rows, then a summary
// from the store itself: what an analyst would query next is what the summary shows.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { AlertRecorder } from '../alerts/alert-recorder.ts';
import type { Alert } from '../alerts/alert.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';
import type { RuleCursor, RuleOutcome } from '../detect/detector.ts';
import { loadRules } from '../detect/sql/load-rules.ts';
import { SqlDetector } from '../detect/sql/sql-detector.ts';
import { canonicalize } from '../ledger/canonical-json.ts';
import { Ledger, openLedgerKey } from '../ledger/index.ts';
import { openOffline } from '../sources/pcap/index.ts';
import { openStoreForWriting, storePath, type Db } from '../store/open-store.ts';
import { NetworkMonitor } from './monitor.ts';
import { resolve } from 'node:path';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { isDecodedLinkType } from './decode/packet-decoder.ts';
import { HEADS_SQL } from '../detect/sql/rule-context.ts';

export interface Progress {
  readonly bytesRead: number;
  readonly fileSize: number;
  readonly packets: number;
}

export interface OfflineSummary {
  readonly file: string;
  readonly format: string;
  readonly linktype: number;
  readonly linktypeName: string | null;
  readonly packets: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly packetsPerSecond: number;
  readonly firstPacket: number | null;
  readonly lastPacket: number | null;
  readonly decodeErrors: Record<string, number>;
  readonly rows: { flows: number; dns: number; tls: number; http: number };
  readonly topTalkers: { address: string; bytes: number; packets: number; flows: number }[];
  readonly dnsNames: { name: string; queries: number; nxdomain: number }[];
  readonly tlsServers: { server_name: string; handshakes: number; ja4s: number }[];
  readonly httpHosts: { host: string; requests: number }[];
  readonly alerts: { rule_id: string; severity: string; summary: string }[];
  readonly ruleErrors: { rule_id: string; status: string; error: string }[];
}

export interface OfflineOptions {
  readonly config: DaemonEyeConfig;
  readonly dataDir: string;
  readonly detect: boolean;
  readonly top: number;
  readonly keepHttpQuery: boolean;
  readonly onProgress?: (p: Progress) => void;
}

// The same heads query as the agent's (one list of event tables: rule-context.ts).
const HEADS = HEADS_SQL;

export async function analyzeFile(path: string, options: OfflineOptions): Promise<OfflineSummary> {
  const capture = openOffline(path);
  if (!isDecodedLinkType(capture.linktype)) {
    capture.close();
    throw new DaemonEyeError('DE_NET_LINKTYPE', `${path}: link type ${capture.linktypeName ?? capture.linktype} (${capture.linktype}) is not decoded; nothing was stored`);
  }
  const dbPath = storePath(options.dataDir);
  const db = openStoreForWriting(dbPath);
  try {
    const before = db.prepare(HEADS).get() as RuleCursor;
    const source = `file:${resolve(path)}`;
    const monitor = new NetworkMonitor(db, { source, attribution: 'none', keepHttpQuery: options.keepHttpQuery, writeEvery: 20_000 });
    const started = performance.now();
    let lastReport = 0;
    for await (const batch of capture) {
      monitor.ingest(batch);
      const now = performance.now();
      if (options.onProgress && now - lastReport > 200) {
        lastReport = now;
        options.onProgress({ bytesRead: capture.position(), fileSize: capture.size, packets: monitor.analyzer.counters.packets });
      }
    }
    monitor.flush();
    const seconds = (performance.now() - started) / 1000;
    options.onProgress?.({ bytesRead: capture.size, fileSize: capture.size, packets: monitor.analyzer.counters.packets });
    const after = db.prepare(HEADS).get() as RuleCursor;
    const detection = options.detect ? await detect(db, dbPath, options) : { raised: [], outcomes: [] };
    const c = monitor.analyzer.counters;
    const range = db.prepare(`SELECT min(start_time) AS first, max(end_time) AS last FROM network_flows WHERE id > ? AND id <= ?`)
      .get(before.flow, after.flow) as { first: number | null; last: number | null };
    return {
      file: path, format: capture.format, linktype: capture.linktype, linktypeName: capture.linktypeName,
      packets: c.packets, bytes: c.bytes, seconds, packetsPerSecond: Math.round(c.packets / Math.max(seconds, 1e-6)),
      firstPacket: range.first, lastPacket: range.last, decodeErrors: monitor.decodeErrors(),
      rows: { flows: after.flow - before.flow, dns: after.dns - before.dns, tls: after.tls - before.tls, http: after.http - before.http },
      ...summarize(db, before, after, options.top),
      alerts: detection.raised.map((a) => ({ rule_id: a.rule_id, severity: a.severity, summary: a.summary })),
      ruleErrors: detection.outcomes.filter((o) => o.status !== 'ok').map((o) => ({ rule_id: o.ruleId, status: o.status, error: o.error ?? '' })),
    };
  } finally {
    capture.close();
    db.close();
  }
}

function summarize(db: Db, before: RuleCursor, after: RuleCursor, top: number): Pick<OfflineSummary, 'topTalkers' | 'dnsNames' | 'tlsServers' | 'httpHosts'> {
  const topTalkers = db.prepare(`
    WITH sides AS (
      SELECT client_address AS address, bytes_to_server + bytes_to_client AS bytes, packets_to_server + packets_to_client AS packets
      FROM network_flows WHERE id > @from AND id <= @to
      UNION ALL
      SELECT server_address, bytes_to_server + bytes_to_client, packets_to_server + packets_to_client
      FROM network_flows WHERE id > @from AND id <= @to)
    SELECT address, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows FROM sides
    GROUP BY address ORDER BY bytes DESC LIMIT @top`).all({ from: before.flow, to: after.flow, top }) as OfflineSummary['topTalkers'];
  const dnsNames = db.prepare(`SELECT query_name AS name, count(*) AS queries, sum(response_code = 'NXDOMAIN') AS nxdomain
    FROM dns_queries WHERE id > @from AND id <= @to GROUP BY query_name ORDER BY queries DESC, name LIMIT @top`)
    .all({ from: before.dns, to: after.dns, top }) as OfflineSummary['dnsNames'];
  const tlsServers = db.prepare(`SELECT coalesce(server_name, '(no SNI) ' || server_address) AS server_name, count(*) AS handshakes,
      count(DISTINCT ja4) AS ja4s FROM tls_handshakes WHERE id > @from AND id <= @to GROUP BY 1 ORDER BY handshakes DESC, 1 LIMIT @top`)
    .all({ from: before.tls, to: after.tls, top }) as OfflineSummary['tlsServers'];
  const httpHosts = db.prepare(`SELECT coalesce(host, server_address) AS host, count(*) AS requests FROM http_requests
      WHERE id > @from AND id <= @to GROUP BY 1 ORDER BY requests DESC, 1 LIMIT @top`)
    .all({ from: before.http, to: after.http, top }) as OfflineSummary['httpHosts'];
  return { topTalkers, dnsNames, tlsServers, httpHosts };
}

/** The network rules over the rows just written, alerts recorded (and ledgered) as the agent does. */
async function detect(db: Db, dbPath: string, options: OfflineOptions): Promise<{ raised: Alert[]; outcomes: RuleOutcome[] }> {
  const d = options.config.detection;
  const loaded = loadRules({ builtin: d.builtin_rules, dirs: d.rule_dirs });
  const disabled = new Set(d.disabled_rules);
  const rules = loaded.rules.map((r) => (disabled.has(r.id) ? { ...r, enabled: false } : r));
  const host = options.config.agent.host_name ?? hostname();
  const key = openLedgerKey(options.dataDir);
  const ledger = new Ledger(db, { signer: key.signer });
  const recorder = new AlertRecorder(db, host, (alert, now) => {
    ledger.append('alert', {
      alert_id: alert.alert_id, alert_uuid: alert.alert_uuid, rule_id: alert.rule_id, rule_version: alert.rule_version,
      severity: alert.severity, host: alert.host, dedup_key: alert.dedup_key, summary: alert.summary,
      first_seen: alert.first_seen, evidence_sha256: createHash('sha256').update(canonicalize(alert.evidence)).digest('hex'),
    }, now);
  });
  recorder.syncRules(rules, (sql) => createHash('sha256').update(sql).digest('hex'));
  const detector = new SqlDetector({ dbPath, rules, timeoutMs: d.rule_timeout_ms, maxRowsPerRule: d.max_rows_per_rule });
  try {
    const run = await detector.detect({ trigger: 'network', scanId: null, heads: db.prepare(HEADS).get() as RuleCursor, cursors: recorder.cursors() });
    return { raised: recorder.record(run, null), outcomes: run.outcomes };
  } finally {
    await detector.close();
  }
}
