// Migrations for both engines, run by Kysely's Migrator (which takes a lock, so several center
// processes starting against one PostgreSQL apply each migration once). Column types differ only
// where the engines do: the auto-increment key and 64-bit integers.
import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import type { Engine } from './open-center-db.ts';

export function centerMigrations(engine: Engine): MigrationProvider {
  const big = engine === 'postgres' ? 'bigint' : 'integer';
  const m001: Migration = {
    async up(db: Kysely<any>) {
      const serial = <T extends { addColumn(name: string, type: any, build?: (c: any) => any): T }>(t: T, name: string) =>
        engine === 'postgres' ? t.addColumn(name, 'bigserial', (c) => c.primaryKey()) : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
      await db.schema.createTable('center_meta').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
      await db.schema.createTable('enrollment_tokens')
        .addColumn('token_id', 'text', (c) => c.primaryKey()).addColumn('secret_sha256', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull()).addColumn('created_at', big, (c) => c.notNull())
        .addColumn('expires_at', big, (c) => c.notNull()).addColumn('used_at', big).addColumn('used_by', 'text').execute();
      await db.schema.createTable('identities')
        .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('role', 'text', (c) => c.notNull()).addColumn('name', 'text', (c) => c.notNull())
        .addColumn('enrolled_at', big, (c) => c.notNull()).addColumn('last_seen_at', big).addColumn('health', 'text').addColumn('version', 'text')
        .addColumn('outbox_pending', big, (c) => c.notNull().defaultTo(0)).addColumn('shed_alerts', big, (c) => c.notNull().defaultTo(0))
        .addColumn('center_id', 'text', (c) => c.notNull()).execute();
      await db.schema.createTable('certificates')
        .addColumn('serial', 'text', (c) => c.primaryKey()).addColumn('identity_id', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull()).addColumn('not_before', big, (c) => c.notNull()).addColumn('not_after', big, (c) => c.notNull())
        .addColumn('issued_at', big, (c) => c.notNull()).addColumn('revoked_at', big).addColumn('revoke_reason', 'text').execute();
      await db.schema.createIndex('certificates_identity').on('certificates').column('identity_id').execute();
      await serial(db.schema.createTable('alerts'), 'id')
        .addColumn('origin', 'text', (c) => c.notNull()).addColumn('origin_seq', big, (c) => c.notNull())
        .addColumn('alert_uuid', 'text', (c) => c.notNull().unique()).addColumn('center_id', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull()).addColumn('rule_name', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull()).addColumn('host', 'text', (c) => c.notNull()).addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('first_seen', big, (c) => c.notNull()).addColumn('received_at', big, (c) => c.notNull()).addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('open')).addColumn('assignee', 'text')
        .addColumn('triage_version', big, (c) => c.notNull().defaultTo(0)).addColumn('triage_hlc', 'text').addColumn('triage_by', 'text')
        .addUniqueConstraint('alerts_origin_seq', ['origin', 'origin_seq']).execute();
      await db.schema.createIndex('alerts_first_seen').on('alerts').column('first_seen').execute();
      await db.schema.createIndex('alerts_status').on('alerts').columns(['status', 'id']).execute();
      await db.schema.createTable('alert_notes')
        .addColumn('note_uuid', 'text', (c) => c.primaryKey()).addColumn('alert_uuid', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull()).addColumn('text', 'text', (c) => c.notNull())
        .addColumn('hlc', 'text', (c) => c.notNull()).addColumn('created_at', big, (c) => c.notNull()).execute();
      await db.schema.createIndex('alert_notes_alert').on('alert_notes').column('alert_uuid').execute();
      await db.schema.createTable('audit_checkpoints')
        .addColumn('origin', 'text', (c) => c.notNull()).addColumn('tree_size', big, (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull()).addColumn('received_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_checkpoints_pk', ['origin', 'tree_size']).execute();
      await db.schema.createTable('authored_objects')
        .addColumn('kind', 'text', (c) => c.notNull()).addColumn('object_id', 'text', (c) => c.notNull())
        .addColumn('revision', big, (c) => c.notNull()).addColumn('version', big, (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull()).addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', big, (c) => c.notNull()).addColumn('author', 'text', (c) => c.notNull()).addColumn('origin', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('authored_objects_pk', ['kind', 'object_id']).execute();
      await db.schema.createIndex('authored_objects_revision').on('authored_objects').column('revision').execute();
      await serial(db.schema.createTable('object_revisions'), 'revision')
        .addColumn('kind', 'text', (c) => c.notNull()).addColumn('object_id', 'text', (c) => c.notNull()).execute();
      await serial(db.schema.createTable('refusals'), 'id')
        .addColumn('at', big, (c) => c.notNull()).addColumn('reason', 'text', (c) => c.notNull()).addColumn('path', 'text', (c) => c.notNull())
        .addColumn('remote', 'text', (c) => c.notNull()).addColumn('identity', 'text').addColumn('detail', 'text').execute();
      await db.schema.createTable('federation_cursors')
        .addColumn('peer', 'text', (c) => c.notNull()).addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('position', big, (c) => c.notNull()).addColumn('updated_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('federation_cursors_pk', ['peer', 'stream']).execute();
      await serial(db.schema.createTable('triage_conflicts'), 'id')
        .addColumn('alert_uuid', 'text', (c) => c.notNull()).addColumn('local', 'text', (c) => c.notNull()).addColumn('remote', 'text', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull()).addColumn('resolved_at', big).addColumn('resolution', 'text').addColumn('resolved_by', 'text').execute();
    },
  };
  // Federation: every triage edit (local or applied from a peer) in order, the log peers sync by.
  const m002: Migration = {
    async up(db: Kysely<any>) {
      const serial = <T extends { addColumn(name: string, type: any, build?: (c: any) => any): T }>(t: T, name: string) =>
        engine === 'postgres' ? t.addColumn(name, 'bigserial', (c) => c.primaryKey()) : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
      await serial(db.schema.createTable('triage_log'), 'seq')
        .addColumn('edit_id', 'text', (c) => c.notNull().unique()).addColumn('alert_uuid', 'text', (c) => c.notNull())
        .addColumn('status', 'text').addColumn('assignee', 'text').addColumn('assignee_set', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('note_uuid', 'text').addColumn('note_text', 'text')
        .addColumn('author', 'text', (c) => c.notNull()).addColumn('hlc', 'text', (c) => c.notNull())
        .addColumn('base_hlcs', 'text', (c) => c.notNull()).addColumn('origin_center', 'text', (c) => c.notNull())
        .addColumn('at', big, (c) => c.notNull()).addColumn('logged_at', big, (c) => c.notNull()).execute();
      await db.schema.alterTable('triage_conflicts').addColumn('edit_id', 'text').execute();
    },
  };
  // Fleet queries: read-only SQL run by every agent, answers merged at the center that asked.
  const m003: Migration = {
    async up(db: Kysely<any>) {
      const serial = <T extends { addColumn(name: string, type: any, build?: (c: any) => any): T }>(t: T, name: string) =>
        engine === 'postgres' ? t.addColumn(name, 'bigserial', (c) => c.primaryKey()) : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
      await serial(db.schema.createTable('fleet_queries'), 'seq')
        .addColumn('query_id', 'text', (c) => c.notNull().unique()).addColumn('sql', 'text', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull()).addColumn('deadline', big, (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull()).addColumn('origin_center', 'text', (c) => c.notNull())
        .addColumn('expected', 'text', (c) => c.notNull()).execute();
      await serial(db.schema.createTable('fleet_query_results'), 'seq')
        .addColumn('query_id', 'text', (c) => c.notNull()).addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('center_id', 'text', (c) => c.notNull()).addColumn('host', 'text', (c) => c.notNull())
        .addColumn('rows', 'text', (c) => c.notNull()).addColumn('row_count', big, (c) => c.notNull())
        .addColumn('truncated', 'integer', (c) => c.notNull()).addColumn('error', 'text')
        .addColumn('answered_at', big, (c) => c.notNull()).addColumn('logged_at', big, (c) => c.notNull())
        .addUniqueConstraint('fleet_query_results_once', ['query_id', 'agent_id']).execute();
    },
  };
  // Fleet rarity of executable paths: each agent's latest report (path hashes), and a serial log
  // whose maximum is the fleet view's revision (routes/fleet-path-routes.ts).
  const m004: Migration = {
    async up(db: Kysely<any>) {
      const serial = <T extends { addColumn(name: string, type: any, build?: (c: any) => any): T }>(t: T, name: string) =>
        engine === 'postgres' ? t.addColumn(name, 'bigserial', (c) => c.primaryKey()) : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
      await db.schema.createTable('fleet_path_hosts')
        .addColumn('agent_id', 'text', (c) => c.notNull()).addColumn('path_hash', 'text', (c) => c.notNull())
        .addColumn('days', 'integer', (c) => c.notNull()).addColumn('runs', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('fleet_path_hosts_pk', ['agent_id', 'path_hash']).execute();
      await db.schema.createIndex('fleet_path_hosts_hash').on('fleet_path_hosts').column('path_hash').execute();
      await db.schema.createTable('fleet_path_reports')
        .addColumn('agent_id', 'text', (c) => c.primaryKey()).addColumn('window_days', 'integer', (c) => c.notNull())
        .addColumn('paths', 'integer', (c) => c.notNull()).addColumn('reported_at', big, (c) => c.notNull())
        .addColumn('revision', big, (c) => c.notNull()).execute();
      await serial(db.schema.createTable('fleet_path_log'), 'revision')
        .addColumn('agent_id', 'text', (c) => c.notNull()).addColumn('reported_at', big, (c) => c.notNull()).execute();
    },
  };
  // Detection-relevant events agents push after each heartbeat (routes/event-routes.ts): one row
  // per agent store row, unique by (agent_id, kind, source_id) so a retried batch stores nothing twice.
  const m005: Migration = {
    async up(db: Kysely<any>) {
      const serial = <T extends { addColumn(name: string, type: any, build?: (c: any) => any): T }>(t: T, name: string) =>
        engine === 'postgres' ? t.addColumn(name, 'bigserial', (c) => c.primaryKey()) : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
      await serial(db.schema.createTable('events'), 'id')
        .addColumn('agent_id', 'text', (c) => c.notNull()).addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('source_id', big, (c) => c.notNull()).addColumn('time', big, (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull()).addColumn('body', 'text', (c) => c.notNull())
        .addColumn('received_at', big, (c) => c.notNull())
        .addUniqueConstraint('events_once', ['agent_id', 'kind', 'source_id']).execute();
      await db.schema.createIndex('events_time').on('events').column('time').execute();
      await db.schema.createIndex('events_agent_received').on('events').columns(['agent_id', 'received_at']).execute();
    },
  };
  return { getMigrations: async () => ({ '001_center': m001, '002_federation': m002, '003_fleet_queries': m003, '004_fleet_paths': m004, '005_events': m005 }) };
}
