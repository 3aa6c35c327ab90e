// The alert as sinks and the CLI see it. The alerts table stores the same fields (times as epoch ms,
// lists as JSON text); toAlert() is the one conversion between the two.
import type { Severity } from '../detect/sql/rule.ts';

export interface Alert {
  readonly alert_id: number;
  readonly alert_uuid: string;
  readonly rule_id: string;
  readonly rule_name: string;
  readonly rule_version: number;
  readonly severity: Severity;
  readonly attack_ids: readonly string[];
  readonly tags: readonly string[];
  readonly host: string;
  readonly summary: string;
  readonly dedup_key: string;
  readonly pid: number | null;
  readonly process_name: string | null;
  readonly executable_path: string | null;
  readonly command_line: string | null;
  /** ISO 8601 times: what a SIEM parses without being told the unit. */
  readonly process_start: string | null;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly occurrences: number;
  readonly cleared_at: string | null;
  readonly triage_status: string;
  readonly scan_id: number | null;
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Set by storm control on delivery: identical alerts folded into this one (src/outbox/fold-duplicates.ts). */
  readonly duplicates?: { readonly count: number; readonly alert_ids: readonly number[]; readonly alert_uuids: readonly string[] };
}

export interface AlertRow {
  alert_id: number;
  alert_uuid: string;
  rule_id: string;
  rule_name: string;
  rule_version: number;
  severity: Severity;
  attack_ids: string;
  tags: string;
  host: string;
  summary: string;
  dedup_key: string;
  pid: number | null;
  process_name: string | null;
  executable_path: string | null;
  command_line: string | null;
  process_start: number | null;
  first_seen: number;
  last_seen: number;
  occurrences: number;
  cleared_at: number | null;
  triage_status: string;
  scan_id: number | null;
  evidence: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toAlert(row: AlertRow): Alert {
  return {
    alert_id: row.alert_id,
    alert_uuid: row.alert_uuid,
    rule_id: row.rule_id,
    rule_name: row.rule_name,
    rule_version: row.rule_version,
    severity: row.severity,
    attack_ids: JSON.parse(row.attack_ids) as string[],
    tags: JSON.parse(row.tags) as string[],
    host: row.host,
    summary: row.summary,
    dedup_key: row.dedup_key,
    pid: row.pid,
    process_name: row.process_name,
    executable_path: row.executable_path,
    command_line: row.command_line,
    process_start: iso(row.process_start),
    first_seen: iso(row.first_seen)!,
    last_seen: iso(row.last_seen)!,
    occurrences: row.occurrences,
    cleared_at: iso(row.cleared_at),
    triage_status: row.triage_status,
    scan_id: row.scan_id,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
  };
}
