// Turns a detection run into alerts, in one transaction with the rule outcomes: new findings raise
// alerts, repeated ones bump last_seen and occurrences, and a state rule's alerts clear when the rule
// ran cleanly and no longer returns them. Returns only the newly raised alerts (what sinks send).
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { DetectionRun, RuleCursor } from '../detect/detector.ts';
import type { Rule } from '../detect/sql/rule.ts';
import type { Db } from '../store/open-store.ts';
import { toAlert, type Alert, type AlertRow } from './alert.ts';
import { dedupKey } from './dedup-key.ts';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : v == null ? null : String(v));
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class AlertRecorder {
  readonly #db: Db;
  readonly #host: string;
  readonly #findOpen: Statement;
  readonly #touch: Statement;
  readonly #insert: Statement;
  readonly #get: Statement;
  readonly #clear: Statement;
  readonly #outcome: Statement;
  readonly #syncRule: Statement;
  readonly #cursors: Statement;
  readonly #onRaised: (alert: Alert, now: number) => void;

  /**
   * `onRaised` runs inside the transaction that creates each alert: the outbox rows and the audit
   * ledger entry commit together with the alert, or not at all.
   */
  constructor(db: Db, host: string, onRaised: (alert: Alert, now: number) => void = () => {}) {
    this.#db = db;
    this.#host = host;
    this.#onRaised = onRaised;
    this.#findOpen = db.prepare('SELECT alert_id FROM alerts WHERE rule_id = ? AND dedup_key = ? AND cleared_at IS NULL');
    this.#touch = db.prepare('UPDATE alerts SET last_seen = ?, occurrences = occurrences + 1, scan_id = ? WHERE alert_id = ?');
    this.#insert = db.prepare(`INSERT INTO alerts (alert_uuid, rule_id, rule_version, rule_name, severity, attack_ids, tags,
      host, dedup_key, pid, process_name, executable_path, command_line, process_start, summary, evidence, scan_id,
      first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#get = db.prepare('SELECT * FROM alerts WHERE alert_id = ?');
    this.#clear = db.prepare(`UPDATE alerts SET cleared_at = ? WHERE rule_id = ? AND cleared_at IS NULL
      AND dedup_key NOT IN (SELECT value FROM json_each(?))`);
    this.#outcome = db.prepare(`UPDATE rules SET last_run_at = ?, last_status = ?, last_error = ?, last_duration_ms = ?,
      last_lifecycle_id = ?, last_exec_id = ?, last_exit_id = ?, last_connection_id = ?, last_security_id = ?,
      last_flow_id = ?, last_dns_id = ?, last_tls_id = ?, last_http_id = ? WHERE rule_id = ?`);
    this.#syncRule = db.prepare(`INSERT INTO rules (rule_id, name, version, severity, source, enabled, sql_sha256, loaded_at)
      VALUES (@id, @name, @version, @severity, @source, @enabled, @sha, @now)
      ON CONFLICT (rule_id) DO UPDATE SET name = excluded.name, version = excluded.version, severity = excluded.severity,
        source = excluded.source, enabled = excluded.enabled, sql_sha256 = excluded.sql_sha256, loaded_at = excluded.loaded_at`);
    // Read before every detection pass (four a second under kernel load): prepared once.
    this.#cursors = db.prepare(`SELECT rule_id, last_lifecycle_id, last_exec_id, last_exit_id, last_connection_id, last_security_id,
      last_flow_id, last_dns_id, last_tls_id, last_http_id FROM rules`);
  }

  /** Records the loaded rules in the rules table (their cursors survive restarts). */
  syncRules(rules: readonly Rule[], sha256: (sql: string) => string, now = Date.now()): void {
    this.#db.transaction(() => {
      for (const r of rules) {
        this.#syncRule.run({ id: r.id, name: r.name, version: r.version, severity: r.severity, source: r.source,
          enabled: r.enabled ? 1 : 0, sha: sha256(r.sql), now });
      }
    })();
  }

  /** Per rule, the lifecycle id its last successful run reached. */
  cursors(): Map<string, RuleCursor> {
    const rows = this.#cursors.all() as { rule_id: string; last_lifecycle_id: number;
      last_exec_id: number; last_exit_id: number; last_connection_id: number; last_security_id: number; last_flow_id: number;
      last_dns_id: number; last_tls_id: number; last_http_id: number }[];
    return new Map(rows.map((r) => [r.rule_id, { lifecycle: r.last_lifecycle_id, exec: r.last_exec_id, exit: r.last_exit_id,
      connection: r.last_connection_id, security: r.last_security_id, flow: r.last_flow_id, dns: r.last_dns_id,
      tls: r.last_tls_id, http: r.last_http_id }]));
  }

  record(run: DetectionRun, scanId: number | null, now = Date.now()): Alert[] {
    return this.#db.transaction(() => {
      const raised: Alert[] = [];
      const keysByRule = new Map<string, string[]>();
      for (const { rule, row } of run.findings) {
        const key = dedupKey(this.#host, row);
        const keys = keysByRule.get(rule.id) ?? [];
        keys.push(key);
        keysByRule.set(rule.id, keys);
        const open = this.#findOpen.get(rule.id, key) as { alert_id: number } | undefined;
        if (open !== undefined) {
          this.#touch.run(now, scanId, open.alert_id);
          continue;
        }
        const pid = num(row['pid']);
        const name = str(row['name']);
        const summary = str(row['reason']) ?? `${rule.name}: ${name ?? 'process'}${pid === null ? '' : ` (pid ${pid})`}`;
        const { lastInsertRowid } = this.#insert.run(
          randomUUID(), rule.id, rule.version, rule.name, rule.severity, JSON.stringify(rule.attack),
          JSON.stringify(rule.tags), this.#host, key, pid, name, str(row['executable_path']), str(row['command_line']),
          num(row['start_time']), summary, JSON.stringify(row), scanId, now, now,
        );
        const alert = toAlert(this.#get.get(lastInsertRowid) as AlertRow);
        this.#onRaised(alert, now);
        raised.push(alert);
      }
      for (const o of run.outcomes) {
        this.#outcome.run(now, o.status, o.error, o.durationMs, o.cursor.lifecycle, o.cursor.exec, o.cursor.exit, o.cursor.connection,
          o.cursor.security, o.cursor.flow, o.cursor.dns, o.cursor.tls, o.cursor.http, o.ruleId);
        // Only a clean, complete run of a state rule proves that a finding went away.
        if (o.status === 'ok' && !o.truncated && o.clearsWhenAbsent) {
          this.#clear.run(now, o.ruleId, JSON.stringify(keysByRule.get(o.ruleId) ?? []));
        }
      }
      return raised;
    })();
  }
}
