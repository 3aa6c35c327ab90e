// Schema migrations, applied in order; PRAGMA user_version records the last one applied.
// Append-only: never edit a migration that has shipped, add the next one. A renamed column keeps
// its old name as a view. docs/schema.md documents every table and column, and
// src/store/schema-doc.test.ts fails when the two disagree.

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

import { NETWORK_MIGRATIONS } from './migrations/network.ts';
import { INTEL_MIGRATIONS } from './migrations/intel.ts';
import { ANALYTICS_MIGRATIONS } from './migrations/analytics.ts';
import { KERNEL_MIGRATIONS } from './migrations/kernel.ts';

// Core tables (agent pipeline, delivery, ledger, kernel events). Each later area keeps its own
// migrations in migrations/AREA.ts with a reserved version range, so areas never edit one list:
// network 10-19, intel 20-29, analytics 30-39, kernel layer additions 40-49.
const CORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'scans, process snapshots and lifecycle, rules, alerts',
    sql: `
CREATE TABLE scans (
  scan_id            INTEGER PRIMARY KEY,
  host               TEXT    NOT NULL,
  started_at         INTEGER NOT NULL,
  finished_at        INTEGER,
  status             TEXT    NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
  process_count      INTEGER NOT NULL DEFAULT 0,
  inaccessible_count INTEGER NOT NULL DEFAULT 0,
  vanished_count     INTEGER NOT NULL DEFAULT 0,
  duration_ms        REAL
);
CREATE INDEX scans_started_at ON scans (started_at);

CREATE TABLE process_snapshots (
  scan_id            INTEGER NOT NULL REFERENCES scans (scan_id) ON DELETE CASCADE,
  pid                INTEGER NOT NULL,
  ppid               INTEGER,
  name               TEXT    NOT NULL,
  executable_path    TEXT,
  command_line       TEXT    NOT NULL,
  argv               TEXT    NOT NULL,
  start_time         INTEGER NOT NULL,
  start_ticks        INTEGER NOT NULL,
  cpu_usage          REAL    NOT NULL,
  memory_usage       INTEGER NOT NULL,
  status             TEXT    NOT NULL,
  executable_hash    TEXT,
  hash_algorithm     TEXT,
  hash_status        TEXT    NOT NULL,
  user_id            INTEGER,
  group_id           INTEGER,
  effective_user_id  INTEGER,
  effective_group_id INTEGER,
  user_name          TEXT,
  accessible         INTEGER NOT NULL,
  file_exists        INTEGER,
  cwd                TEXT,
  tty                TEXT,
  session_id         INTEGER,
  pgid               INTEGER,
  threads            INTEGER,
  pid_ns             INTEGER,
  mnt_ns             INTEGER,
  net_ns             INTEGER,
  container_id       TEXT,
  environment        TEXT,
  is_kernel_thread   INTEGER NOT NULL,
  collection_time    INTEGER NOT NULL,
  PRIMARY KEY (scan_id, pid)
) WITHOUT ROWID;

-- The latest complete scan: what rules written for DaemonEye's processes table expect.
CREATE VIEW processes AS
  SELECT * FROM process_snapshots
  WHERE scan_id = (SELECT max(scan_id) FROM scans WHERE status = 'complete');

CREATE TABLE process_lifecycle (
  id               INTEGER PRIMARY KEY,
  scan_id          INTEGER NOT NULL REFERENCES scans (scan_id) ON DELETE CASCADE,
  event            TEXT    NOT NULL CHECK (event IN ('start', 'stop', 'changed')),
  pid              INTEGER NOT NULL,
  ppid             INTEGER,
  name             TEXT    NOT NULL,
  executable_path  TEXT,
  command_line     TEXT    NOT NULL,
  user_id          INTEGER,
  start_time       INTEGER NOT NULL,
  detected_at      INTEGER NOT NULL,
  changed_fields   TEXT,
  previous         TEXT
);
CREATE INDEX process_lifecycle_scan ON process_lifecycle (scan_id);

CREATE TABLE rules (
  rule_id           TEXT    PRIMARY KEY,
  name              TEXT    NOT NULL,
  version           INTEGER NOT NULL,
  severity          TEXT    NOT NULL,
  source            TEXT    NOT NULL,
  enabled           INTEGER NOT NULL,
  sql_sha256        TEXT    NOT NULL,
  loaded_at         INTEGER NOT NULL,
  last_run_at       INTEGER,
  last_status       TEXT,
  last_error        TEXT,
  last_duration_ms  REAL,
  last_lifecycle_id INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE alerts (
  alert_id        INTEGER PRIMARY KEY,
  alert_uuid      TEXT    NOT NULL UNIQUE,
  rule_id         TEXT    NOT NULL,
  rule_version    INTEGER NOT NULL,
  rule_name       TEXT    NOT NULL,
  severity        TEXT    NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  attack_ids      TEXT    NOT NULL,
  tags            TEXT    NOT NULL,
  host            TEXT    NOT NULL,
  dedup_key       TEXT    NOT NULL,
  pid             INTEGER,
  process_name    TEXT,
  executable_path TEXT,
  command_line    TEXT,
  process_start   INTEGER,
  summary         TEXT    NOT NULL,
  evidence        TEXT    NOT NULL,
  scan_id         INTEGER,
  first_seen      INTEGER NOT NULL,
  last_seen       INTEGER NOT NULL,
  occurrences     INTEGER NOT NULL DEFAULT 1,
  cleared_at      INTEGER,
  triage_status   TEXT    NOT NULL DEFAULT 'open' CHECK (triage_status IN ('open', 'acknowledged', 'resolved', 'false_positive')),
  triage_note     TEXT
);
-- One open alert per rule and key: a finding is raised once until it clears.
CREATE UNIQUE INDEX alerts_open_key ON alerts (rule_id, dedup_key) WHERE cleared_at IS NULL;
CREATE INDEX alerts_first_seen ON alerts (first_seen);
`,
  },
  {
    version: 2,
    description: 'alert delivery outbox and dead letters',
    sql: `
-- One row per alert and sink still to deliver, written in the transaction that creates the alert.
-- A row is deleted only after the receiver acknowledged the alert (docs/adr/0005).
CREATE TABLE alert_outbox (
  sink            TEXT    NOT NULL,
  alert_id        INTEGER NOT NULL REFERENCES alerts (alert_id),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (sink, alert_id)
) WITHOUT ROWID;
CREATE INDEX alert_outbox_due ON alert_outbox (sink, next_attempt_at);

-- Alerts a sink gave up on after delivery.max_attempts tries; \`daemoneye alerts redrive\` re-queues them.
CREATE TABLE alert_dead_letters (
  sink       TEXT    NOT NULL,
  alert_id   INTEGER NOT NULL REFERENCES alerts (alert_id),
  attempts   INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  dead_at    INTEGER NOT NULL,
  PRIMARY KEY (sink, alert_id)
) WITHOUT ROWID;

-- Per sink: what was delivered, suppressed as a duplicate, or dead-lettered, and the breaker state.
CREATE TABLE sink_status (
  sink                 TEXT    PRIMARY KEY,
  type                 TEXT    NOT NULL,
  delivered            INTEGER NOT NULL DEFAULT 0,
  suppressed           INTEGER NOT NULL DEFAULT 0,
  dead_lettered        INTEGER NOT NULL DEFAULT 0,
  failures             INTEGER NOT NULL DEFAULT 0,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  circuit              TEXT    NOT NULL DEFAULT 'closed' CHECK (circuit IN ('closed', 'open', 'half_open')),
  last_error           TEXT,
  last_success_at      INTEGER,
  last_failure_at      INTEGER
);
`,
  },
  {
    version: 3,
    description: 'tamper-evident audit ledger (RFC 6962 Merkle tree, signed checkpoints)',
    sql: `
-- Append-only: sequence numbers start at 0 without gaps; entry is canonical JSON; leaf_hash is
-- SHA-256(0x00 || entry) as RFC 6962 defines a Merkle leaf.
CREATE TABLE ledger_entries (
  seq         INTEGER PRIMARY KEY,
  kind        TEXT    NOT NULL,
  entry       TEXT    NOT NULL,
  leaf_hash   BLOB    NOT NULL,
  recorded_at INTEGER NOT NULL
);

-- Signed tree heads: the Merkle root over entries 0..tree_size-1, signed with the agent's Ed25519 key.
CREATE TABLE ledger_checkpoints (
  tree_size  INTEGER PRIMARY KEY,
  root_hash  BLOB    NOT NULL,
  signed_at  INTEGER NOT NULL,
  key_id     TEXT    NOT NULL,
  signature  BLOB    NOT NULL
);
`,
  },
  {
    version: 4,
    description: 'kernel process events: exec, fork, exit',
    sql: `
-- Real-time process events from the kernel layer (eBPF): what happens between two scans.
CREATE TABLE process_exec (
  id             INTEGER PRIMARY KEY,
  time           INTEGER NOT NULL,
  ktime_ns       INTEGER NOT NULL,
  pid            INTEGER NOT NULL,
  tid            INTEGER NOT NULL,
  ppid           INTEGER NOT NULL,
  user_id        INTEGER NOT NULL,
  group_id       INTEGER NOT NULL,
  effective_user_id INTEGER NOT NULL,
  cgroup_id      INTEGER NOT NULL,
  comm           TEXT    NOT NULL,
  filename       TEXT    NOT NULL,
  argv           TEXT    NOT NULL,
  command_line   TEXT    NOT NULL,
  args_truncated INTEGER NOT NULL
);
CREATE INDEX process_exec_time ON process_exec (time);
CREATE INDEX process_exec_pid ON process_exec (pid);

CREATE TABLE process_fork (
  id         INTEGER PRIMARY KEY,
  time       INTEGER NOT NULL,
  ktime_ns   INTEGER NOT NULL,
  parent_pid INTEGER NOT NULL,
  child_pid  INTEGER NOT NULL,
  child_tid  INTEGER NOT NULL,
  user_id    INTEGER NOT NULL,
  comm       TEXT    NOT NULL
);
CREATE INDEX process_fork_time ON process_fork (time);

CREATE TABLE process_exit (
  id        INTEGER PRIMARY KEY,
  time      INTEGER NOT NULL,
  ktime_ns  INTEGER NOT NULL,
  pid       INTEGER NOT NULL,
  ppid      INTEGER NOT NULL,
  user_id   INTEGER NOT NULL,
  comm      TEXT    NOT NULL,
  exit_code INTEGER NOT NULL,
  signal    INTEGER NOT NULL
);
CREATE INDEX process_exit_time ON process_exit (time);
CREATE INDEX process_exit_pid ON process_exit (pid);
`,
  },
  {
    version: 5,
    description: 'per-rule cursors into the kernel event tables',
    sql: `
ALTER TABLE rules ADD COLUMN last_exec_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rules ADD COLUMN last_exit_id INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 6,
    description: 'TCP connection events from the kernel layer',
    sql: `
CREATE TABLE network_connections (
  id             INTEGER PRIMARY KEY,
  time           INTEGER NOT NULL,
  ktime_ns       INTEGER NOT NULL,
  event          TEXT    NOT NULL CHECK (event IN ('connect', 'accept', 'listen')),
  pid            INTEGER NOT NULL,
  tid            INTEGER NOT NULL,
  ppid           INTEGER NOT NULL,
  user_id        INTEGER NOT NULL,
  comm           TEXT    NOT NULL,
  cgroup_id      INTEGER NOT NULL,
  family         INTEGER NOT NULL,
  protocol       TEXT    NOT NULL,
  local_address  TEXT    NOT NULL,
  local_port     INTEGER NOT NULL,
  remote_address TEXT    NOT NULL,
  remote_port    INTEGER NOT NULL
);
CREATE INDEX network_connections_time ON network_connections (time);
CREATE INDEX network_connections_pid ON network_connections (pid);
`,
  },
  {
    version: 7,
    description: 'ancestry of each exec from the live process tree',
    sql: `ALTER TABLE process_exec ADD COLUMN ancestry TEXT;`,
  },
  {
    version: 8,
    description: 'security-relevant syscalls from the kernel layer',
    sql: `
CREATE TABLE process_security_events (
  id         INTEGER PRIMARY KEY,
  time       INTEGER NOT NULL,
  ktime_ns   INTEGER NOT NULL,
  op         TEXT    NOT NULL,
  pid        INTEGER NOT NULL,
  tid        INTEGER NOT NULL,
  ppid       INTEGER NOT NULL,
  user_id    INTEGER NOT NULL,
  comm       TEXT    NOT NULL,
  cgroup_id  INTEGER NOT NULL,
  target_pid INTEGER NOT NULL,
  arg0       INTEGER NOT NULL,
  arg1       INTEGER NOT NULL,
  name       TEXT    NOT NULL
);
CREATE INDEX process_security_events_time ON process_security_events (time);
`,
  },
  {
    version: 9,
    description: 'per-rule cursors into network_connections and process_security_events',
    sql: `
ALTER TABLE rules ADD COLUMN last_connection_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rules ADD COLUMN last_security_id INTEGER NOT NULL DEFAULT 0;
`,
  },
];

export const MIGRATIONS: readonly Migration[] = [...CORE_MIGRATIONS, ...NETWORK_MIGRATIONS, ...INTEL_MIGRATIONS, ...ANALYTICS_MIGRATIONS, ...KERNEL_MIGRATIONS]
  .sort((a, b) => a.version - b.version);

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
