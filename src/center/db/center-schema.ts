// The center's tables as Kysely sees them (docs/center.md "Storage" describes each). One
// definition for SQLite and PostgreSQL: times are epoch milliseconds (bigint), JSON is text, so
// both engines store and return the same values.
import type { Generated } from 'kysely';

export interface CenterTables {
  center_meta: { key: string; value: string };
  enrollment_tokens: {
    token_id: string; secret_sha256: string; role: string; created_at: number; expires_at: number;
    used_at: number | null; used_by: string | null;
  };
  /** Every enrolled agent, regional center and analyst; agents are the fleet's hosts. */
  identities: {
    id: string; role: string; name: string; enrolled_at: number; last_seen_at: number | null;
    health: string | null; version: string | null; outbox_pending: number; shed_alerts: number;
    /** The center that enrolled it (this one, or a regional center for federated inventory). */
    center_id: string;
  };
  certificates: {
    serial: string; identity_id: string; sha256: string; not_before: number; not_after: number;
    issued_at: number; revoked_at: number | null; revoke_reason: string | null;
  };
  alerts: {
    id: Generated<number>;
    /** The agent that raised it and its alert_id there: (origin, origin_seq) is the dedup key. */
    origin: string; origin_seq: number; alert_uuid: string;
    /** The center the agent reports to (where the alert entered the federation). */
    center_id: string;
    rule_id: string; rule_name: string; severity: string; host: string; summary: string;
    first_seen: number; received_at: number; body: string;
    status: string; assignee: string | null; triage_version: number; triage_hlc: string | null; triage_by: string | null;
    /** This center's arrival order, the cursor federation pushes by. */
  };
  alert_notes: { note_uuid: string; alert_uuid: string; author: string; text: string; hlc: string; created_at: number };
  audit_checkpoints: { origin: string; tree_size: number; note: string; received_at: number };
  authored_objects: {
    kind: string; object_id: string; revision: number; version: number; body: string; deleted: number;
    updated_at: number; author: string; origin: string;
  };
  object_revisions: { revision: Generated<number>; kind: string; object_id: string };
  refusals: { id: Generated<number>; at: number; reason: string; path: string; remote: string; identity: string | null; detail: string | null };
  federation_cursors: { peer: string; stream: string; position: number; updated_at: number };
  triage_conflicts: {
    id: Generated<number>; alert_uuid: string; local: string; remote: string; created_at: number;
    resolved_at: number | null; resolution: string | null; resolved_by: string | null; edit_id: string | null;
  };
  /** Fleet queries: `expected` is the JSON list of agent ids that were alive when it was asked. */
  fleet_queries: {
    seq: Generated<number>; query_id: string; sql: string; created_at: number; deadline: number; author: string;
    origin_center: string; expected: string;
  };
  fleet_query_results: {
    seq: Generated<number>; query_id: string; agent_id: string; center_id: string; host: string; rows: string;
    row_count: number; truncated: number; error: string | null; answered_at: number; logged_at: number;
  };
  /** Detection-relevant agent store rows (process_exec, dns_queries, ...): `kind` is the table, `body` the row as JSON. */
  events: {
    id: Generated<number>; agent_id: string; kind: string; source_id: number; time: number; host: string; body: string; received_at: number;
  };
  /** Every triage edit this center made or applied, in order: what federation peers pull and push. */
  triage_log: {
    seq: Generated<number>; edit_id: string; alert_uuid: string; status: string | null; assignee: string | null;
    /** 1 when the edit sets the assignee (null included), 0 when it leaves it alone. */
    assignee_set: number; note_uuid: string | null; note_text: string | null;
    author: string; hlc: string; base_hlcs: string; origin_center: string; at: number;
    /** This center's clock when the row was written (the settle window of federation cursors). */
    logged_at: number;
  };
}
