// What an agent may post as an alert: the agent's Alert (src/alerts/alert.ts) checked field by
// field with bounds, so a malformed or hostile payload is refused whole and nothing of it stored.
import { z } from 'zod';

const iso = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 time');
const short = (n: number) => z.string().max(n);

export const alertInput = z.object({
  alert_id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  alert_uuid: z.uuid(),
  rule_id: short(200).min(1),
  rule_name: short(500),
  rule_version: z.number().int().min(0),
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  attack_ids: z.array(short(32)).max(64),
  tags: z.array(short(100)).max(64),
  host: short(255),
  summary: short(4096),
  dedup_key: short(1024),
  pid: z.number().int().nullable(),
  process_name: short(4096).nullable(),
  executable_path: short(4096).nullable(),
  command_line: short(65_536).nullable(),
  process_start: iso.nullable(),
  first_seen: iso,
  last_seen: iso,
  occurrences: z.number().int().min(1),
  cleared_at: iso.nullable(),
  triage_status: z.enum(['open', 'acknowledged', 'resolved', 'false_positive']),
  scan_id: z.number().int().nullable(),
  evidence: z.record(z.string(), z.unknown()),
}).strip();
export type AlertInput = z.output<typeof alertInput>;

export const alertBatchInput = (max: number) => z.strictObject({
  agent_id: z.string().max(64),
  alerts: z.array(alertInput).min(1).max(max),
});

export const heartbeatInput = z.strictObject({
  agent_id: z.string().max(64),
  host: short(255),
  version: short(64),
  outbox_pending: z.number().int().min(0),
  shed_alerts: z.number().int().min(0),
  health: z.record(z.string(), z.unknown()).default({}),
  checkpoint: z.strictObject({ tree_size: z.number().int().min(0), note: short(8192) }).nullable().default(null),
});
export type HeartbeatInput = z.output<typeof heartbeatInput>;

export const TRIAGE_STATUSES = ['open', 'acknowledged', 'resolved', 'false_positive'] as const;
export const CLOSED_STATUSES: ReadonlySet<string> = new Set(['resolved', 'false_positive']);

export const triageInput = z.strictObject({
  status: z.enum(TRIAGE_STATUSES).optional(),
  assignee: short(200).nullable().optional(),
  note: short(16_384).optional(),
  /** Optimistic concurrency: refuse when the alert moved on since the analyst read it. */
  expected_version: z.number().int().min(0).optional(),
});
export type TriageInput = z.output<typeof triageInput>;
