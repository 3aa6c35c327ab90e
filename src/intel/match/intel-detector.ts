// The STIX indicator detector: reads active indicators from intel_indicators (written by TAXII sync),
// matches the events stored since its own cursor (new or changed processes of a scan, exec events,
// connections), records a STIX sighting per indicator (repeats fold into count/last_seen) and returns
// one finding per match. Findings carry rule DE-INTEL; the indicator id, name, labels, kill-chain
// phases and matched observables are in the evidence. Severity rules: docs/intel.md.
import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { CURSOR_START, type DetectionContext, type DetectionRun, type Detector, type Finding, type RuleCursor } from '../../detect/detector.ts';
import type { RuleMeta, Severity } from '../../detect/sql/rule.ts';
import { IntelMatcher, type IndicatorMatch, type MatcherOptions } from './intel-matcher.ts';
import type { AgentEvent } from './event-observation.ts';
import type { IndicatorInfo } from './live-indicator.ts';

export const INTEL_RULE_ID = 'DE-INTEL';
const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export interface IntelDetectorOptions extends MatcherOptions {
  readonly dbPath: string;
  readonly host: string;
  /** How often the indicator table is checked for changes (ms). */
  readonly reloadCheckMs?: number;
  /** Rows read per table per run; the rest waits for the next run. */
  readonly maxRowsPerRun?: number;
  readonly now?: () => number;
}

interface IndicatorRow {
  indicator_id: string; name: string | null; pattern: string; valid_from: number; valid_until: number | null;
  labels: string; kill_chain_phases: string; confidence: number | null; object: string;
}

const parseList = (text: string): unknown[] => {
  try { const v: unknown = JSON.parse(text); return Array.isArray(v) ? v : []; } catch { return []; }
};

/**
 * Severity from the indicator: malicious-activity, compromised and attribution labels are high,
 * benign is low, anything else medium; a confidence of 85 or more raises it one step, below 30
 * lowers it one step.
 */
export function indicatorSeverity(labels: readonly string[], confidence: number | null): Severity {
  const l = labels.map((x) => x.toLowerCase());
  let rank = l.some((x) => x === 'malicious-activity' || x === 'compromised' || x === 'attribution') ? 2
    : l.includes('benign') ? 0 : 1;
  if (confidence !== null && confidence >= 85) rank += 1;
  if (confidence !== null && confidence < 30) rank -= 1;
  return SEVERITIES[Math.max(0, Math.min(3, rank))]!;
}

/** ATT&CK technique ids named by the indicator's external references. */
function attackIds(objectJson: string): string[] {
  try {
    const o = JSON.parse(objectJson) as { external_references?: { source_name?: string; external_id?: string }[] };
    return (o.external_references ?? []).filter((r) => r.source_name === 'mitre-attack' && /^T\d{4}(\.\d{3})?$/.test(r.external_id ?? ''))
      .map((r) => r.external_id!);
  } catch {
    return [];
  }
}

export class IntelDetector implements Detector {
  readonly name = 'stix';
  readonly #db: Database.Database;
  readonly #host: string;
  readonly #matcher: IntelMatcher;
  readonly #now: () => number;
  readonly #reloadCheckMs: number;
  readonly #maxRows: number;
  #fingerprint = '';
  #nextBoundary = Infinity;
  #lastCheck = -Infinity;
  #attack = new Map<string, string[]>();
  readonly #stmts;

  constructor(opts: IntelDetectorOptions) {
    this.#db = new Database(opts.dbPath, { fileMustExist: true });
    this.#db.pragma('busy_timeout = 5000');
    this.#host = opts.host;
    this.#matcher = new IntelMatcher(opts);
    this.#now = opts.now ?? Date.now;
    this.#reloadCheckMs = opts.reloadCheckMs ?? 5_000;
    this.#maxRows = opts.maxRowsPerRun ?? 50_000;
    const db = this.#db;
    this.#stmts = {
      fingerprint: db.prepare(`SELECT count(*) || '/' || coalesce(max(added_at), 0) || '/' || coalesce(sum(revoked), 0) FROM intel_indicators`).pluck(),
      active: db.prepare(`SELECT indicator_id, name, pattern, valid_from, valid_until, labels, kill_chain_phases, confidence, object
        FROM intel_indicators WHERE revoked = 0 AND pattern_type = 'stix' AND compile_error IS NULL`),
      snapshots: db.prepare(`SELECT l.id AS lifecycle_id, l.detected_at, s.* FROM process_lifecycle l
        JOIN process_snapshots s ON s.scan_id = l.scan_id AND s.pid = l.pid
        WHERE l.id > ? AND l.id <= ? AND l.event IN ('start', 'changed') ORDER BY l.id LIMIT ?`),
      execs: db.prepare('SELECT * FROM process_exec WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      connections: db.prepare('SELECT * FROM network_connections WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      flows: db.prepare('SELECT * FROM network_flows WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      dns: db.prepare('SELECT * FROM dns_queries WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      tls: db.prepare('SELECT * FROM tls_handshakes WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      http: db.prepare('SELECT * FROM http_requests WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      openSighting: db.prepare('SELECT sighting_id, first_seen, count, object FROM intel_sightings WHERE indicator_id = ? AND shared_at IS NULL ORDER BY last_seen DESC LIMIT 1'),
      insertSighting: db.prepare(`INSERT INTO intel_sightings (sighting_id, indicator_id, first_seen, last_seen, count, alert_uuid, observed, object)
        VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`),
      foldSighting: db.prepare('UPDATE intel_sightings SET last_seen = ?, count = ?, observed = ?, object = ? WHERE sighting_id = ?'),
      // Alerts are created by the recorder after detect() returns: link them to their sightings on
      // the next run (the sighting id is in the alert's evidence).
      linkAlerts: db.prepare(`UPDATE intel_sightings SET alert_uuid = (SELECT a.alert_uuid FROM alerts a
          WHERE a.rule_id = '${INTEL_RULE_ID}' AND json_extract(a.evidence, '$.sighting_id') = intel_sightings.sighting_id
          ORDER BY a.alert_id DESC LIMIT 1)
        WHERE alert_uuid IS NULL AND sighting_id IN (SELECT json_extract(evidence, '$.sighting_id') FROM alerts
          WHERE rule_id = '${INTEL_RULE_ID}' AND alert_id > ?)`),
      maxAlert: db.prepare(`SELECT coalesce(max(alert_id), 0) FROM alerts`).pluck(),
      syncRule: db.prepare(`INSERT INTO rules (rule_id, name, version, severity, source, enabled, sql_sha256, loaded_at)
        VALUES (?, 'STIX indicator match', 1, 'high', 'builtin:stix-indicators', 1, '', ?)
        ON CONFLICT (rule_id) DO UPDATE SET loaded_at = excluded.loaded_at`),
    };
    // The rules row holds this detector's cursor (the alert recorder stores outcomes there), so a
    // restart resumes where it stopped instead of re-matching history.
    this.#stmts.syncRule.run(INTEL_RULE_ID, this.#now());
  }

  /** Indicators loaded and index figures (for `doctor` and logs). */
  get stats(): IntelMatcher['stats'] & { rejected: number } {
    return { ...this.#matcher.stats, rejected: this.#rejected };
  }

  #rejected = 0;

  /** Reloads the active indicators when the table changed or a validity boundary passed. */
  reloadIfChanged(force = false): boolean {
    const now = this.#now();
    if (!force && now - this.#lastCheck < this.#reloadCheckMs && now < this.#nextBoundary) return false;
    this.#lastCheck = now;
    const fp = this.#stmts.fingerprint.get() as string;
    if (!force && fp === this.#fingerprint && now < this.#nextBoundary) return false;
    this.#fingerprint = fp;
    const infos: IndicatorInfo[] = [];
    let next = Infinity;
    this.#attack = new Map();
    for (const r of this.#stmts.active.iterate() as Iterable<IndicatorRow>) {
      if (r.valid_from > now) { next = Math.min(next, r.valid_from); continue; }
      if (r.valid_until !== null && r.valid_until <= now) continue;
      if (r.valid_until !== null) next = Math.min(next, r.valid_until);
      const labels = parseList(r.labels).filter((x): x is string => typeof x === 'string');
      infos.push({ id: r.indicator_id, name: r.name, pattern: r.pattern, labels, killChainPhases: parseList(r.kill_chain_phases),
        confidence: r.confidence, validFrom: r.valid_from, validUntil: r.valid_until });
      const attack = attackIds(r.object);
      if (attack.length > 0) this.#attack.set(r.indicator_id, attack);
    }
    this.#nextBoundary = next;
    this.#rejected = this.#matcher.load(infos).rejected.length;
    return true;
  }

  async detect(context: DetectionContext): Promise<DetectionRun> {
    const started = performance.now();
    const heads = context.heads;
    // The alert recorder persists this cursor in the rules row created by the constructor.
    const from: RuleCursor = context.cursors.get(INTEL_RULE_ID) ?? { ...CURSOR_START, exit: heads.exit, security: heads.security };
    const findings: Finding[] = [];
    let cursor: RuleCursor = { ...from, exit: heads.exit, security: heads.security };
    let truncated = false;
    let error: string | null = null;
    try {
      this.#linkAlerts();
      this.reloadIfChanged();
      const lim = this.#maxRows;
      const snaps = this.#stmts.snapshots.all(from.lifecycle, heads.lifecycle, lim) as Record<string, unknown>[];
      const execs = this.#stmts.execs.all(from.exec, heads.exec, lim) as Record<string, unknown>[];
      const conns = this.#stmts.connections.all(from.connection, heads.connection, lim) as Record<string, unknown>[];
      const flows = this.#stmts.flows.all(from.flow, heads.flow, lim) as Record<string, unknown>[];
      const dns = this.#stmts.dns.all(from.dns, heads.dns, lim) as Record<string, unknown>[];
      const tls = this.#stmts.tls.all(from.tls, heads.tls, lim) as Record<string, unknown>[];
      const http = this.#stmts.http.all(from.http, heads.http, lim) as Record<string, unknown>[];
      truncated = [snaps, execs, conns, flows, dns, tls, http].some((rows) => rows.length === lim);
      const net = (kind: 'network_flow' | 'dns_query' | 'tls_handshake' | 'http_request', rows: Record<string, unknown>[]): AgentEvent[] =>
        rows.map((r) => ({ kind, id: Number(r['id']), time: Number(r['time'] ?? r['start_time']), row: r }));
      const events: AgentEvent[] = [
        ...snaps.map((r) => ({ kind: 'process_snapshot' as const, id: Number(r['lifecycle_id']), time: Number(r['collection_time'] ?? r['detected_at']), row: r })),
        ...execs.map((r) => ({ kind: 'process_exec' as const, id: Number(r['id']), time: Number(r['time']), row: r })),
        ...conns.map((r) => ({ kind: 'network_connection' as const, id: Number(r['id']), time: Number(r['time']), row: r })),
        ...net('network_flow', flows), ...net('dns_query', dns), ...net('tls_handshake', tls), ...net('http_request', http),
      ].sort((a, b) => a.time - b.time);
      if (this.#matcher.size > 0) {
        const matches: { m: IndicatorMatch; e: AgentEvent }[] = [];
        for (const e of events) for (const m of this.#matcher.match(e)) matches.push({ m, e });
        if (matches.length > 0) this.#db.transaction(() => { for (const { m, e } of matches) findings.push(this.#finding(m, e)); })();
      }
      const last = (rows: Record<string, unknown>[], key: string, head: number) => (rows.length === lim ? Number(rows[rows.length - 1]![key]) : head);
      cursor = {
        ...cursor, lifecycle: last(snaps, 'lifecycle_id', heads.lifecycle), exec: last(execs, 'id', heads.exec),
        connection: last(conns, 'id', heads.connection), flow: last(flows, 'id', heads.flow), dns: last(dns, 'id', heads.dns),
        tls: last(tls, 'id', heads.tls), http: last(http, 'id', heads.http),
      };
    } catch (e) {
      error = (e as Error).message;
    }
    return {
      findings,
      outcomes: [{ ruleId: INTEL_RULE_ID, status: error === null ? 'ok' : 'error', durationMs: performance.now() - started, rows: findings.length,
        truncated, error, cursor: error === null ? cursor : from, clearsWhenAbsent: false }],
    };
  }

  #finding(m: IndicatorMatch, e: AgentEvent): Finding {
    const ind = m.indicator;
    const severity = indicatorSeverity(ind.labels, ind.confidence);
    const rule: RuleMeta = { id: INTEL_RULE_ID, name: 'STIX indicator match', version: 1, severity, attack: this.#attack.get(ind.id) ?? [], tags: ['stix', ...ind.labels], kind: 'event' };
    const sightingId = this.#recordSighting(m);
    const row = e.row;
    const pid = typeof row['pid'] === 'number' && row['pid'] > 0 ? row['pid'] : null;
    const start = row['start_time'] ?? row['process_start_time'] ?? null;
    const identity = pid !== null ? `${pid}|${String(start ?? '')}` : createHash('sha256').update(JSON.stringify(m.observables)).digest('hex').slice(0, 24);
    return {
      rule,
      row: {
        pid,
        name: row['name'] ?? row['comm'] ?? row['process_name'] ?? null,
        executable_path: row['executable_path'] ?? row['filename'] ?? null,
        command_line: row['command_line'] ?? null,
        start_time: start,
        reason: `STIX indicator matched: ${ind.name ?? ind.id}`,
        dedup_key: `${ind.id}|${identity}`,
        indicator_id: ind.id,
        indicator_name: ind.name,
        labels: ind.labels,
        kill_chain_phases: ind.killChainPhases,
        confidence: ind.confidence,
        pattern: ind.pattern,
        observables: m.observables,
        events: m.events,
        sighting_id: sightingId,
      },
    };
  }

  #linkedUpTo = -1;

  #linkAlerts(): void {
    if (this.#linkedUpTo < 0) this.#linkedUpTo = Math.max(0, (this.#stmts.maxAlert.get() as number) - 10_000);
    const head = this.#stmts.maxAlert.get() as number;
    if (head > this.#linkedUpTo) this.#stmts.linkAlerts.run(this.#linkedUpTo);
    this.#linkedUpTo = head;
  }

  /** One open (unshared) sighting per indicator: repeats fold into count and last_seen. */
  #recordSighting(m: IndicatorMatch): string {
    const now = m.time;
    const open = this.#stmts.openSighting.get(m.indicator.id) as { sighting_id: string; first_seen: number; count: number; object: string } | undefined;
    const observed = JSON.stringify(m.observables.slice(0, 10));
    if (open !== undefined) {
      const count = open.count + 1;
      const object = { ...(JSON.parse(open.object) as Record<string, unknown>), modified: iso(Date.now()), last_seen: iso(Math.max(now, open.first_seen)), count };
      this.#stmts.foldSighting.run(Math.max(now, open.first_seen), count, observed, JSON.stringify(object), open.sighting_id);
      return open.sighting_id;
    }
    const id = `sighting--${randomUUID()}`;
    const created = iso(Date.now());
    const object = {
      type: 'sighting', spec_version: '2.1', id, created, modified: created,
      first_seen: iso(now), last_seen: iso(now), count: 1, sighting_of_ref: m.indicator.id,
      description: `Seen by DaemonEye on ${this.#host}`, x_daemoneye_host: this.#host,
    };
    this.#stmts.insertSighting.run(id, m.indicator.id, now, now, 1, observed, JSON.stringify(object));
    return id;
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
