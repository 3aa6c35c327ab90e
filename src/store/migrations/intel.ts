// Migrations for threat intelligence: versions 20-29 are reserved for them (see ../migrations.ts).
// intel_indicators is the contract between TAXII sync (writes) and real-time matching (reads):
// one row per indicator id holding its newest version; older versions are replaced, never kept
// beside it, so the matcher reads `revoked = 0 AND valid window covers now` and nothing else.
import type { Migration } from '../migrations.ts';

export const INTEL_MIGRATIONS: readonly Migration[] = [
  {
    version: 20,
    description: 'STIX indicators, feeds, sync cursors and sightings',
    sql: `
CREATE TABLE intel_feeds (
  feed_id        TEXT PRIMARY KEY,
  url            TEXT NOT NULL,
  collection_id  TEXT NOT NULL,
  added_after    TEXT,
  last_sync_at   INTEGER,
  last_error     TEXT,
  objects_total  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE intel_indicators (
  indicator_id      TEXT PRIMARY KEY,
  feed_id           TEXT NOT NULL,
  modified          TEXT NOT NULL,
  name              TEXT,
  description       TEXT,
  pattern           TEXT NOT NULL,
  pattern_type      TEXT NOT NULL,
  valid_from        INTEGER NOT NULL,
  valid_until       INTEGER,
  revoked           INTEGER NOT NULL DEFAULT 0,
  labels            TEXT NOT NULL DEFAULT '[]',
  kill_chain_phases TEXT NOT NULL DEFAULT '[]',
  confidence        INTEGER,
  object            TEXT NOT NULL,
  added_at          INTEGER NOT NULL,
  compile_error     TEXT
);
CREATE INDEX intel_indicators_active ON intel_indicators (revoked, valid_until);
CREATE TABLE intel_sightings (
  sighting_id      TEXT PRIMARY KEY,
  indicator_id     TEXT NOT NULL,
  first_seen       INTEGER NOT NULL,
  last_seen        INTEGER NOT NULL,
  count            INTEGER NOT NULL,
  alert_uuid       TEXT,
  observed         TEXT NOT NULL,
  object           TEXT NOT NULL,
  shared_at        INTEGER,
  share_error      TEXT
);
CREATE INDEX intel_sightings_unshared ON intel_sightings (shared_at) WHERE shared_at IS NULL;
`,
  },
  {
    version: 21,
    description: 'TAXII 2.1 server: collections, object versions and add-status resources',
    sql: `
CREATE TABLE taxii_collections (
  collection_id  TEXT PRIMARY KEY,
  api_root       TEXT NOT NULL,
  title          TEXT NOT NULL,
  description    TEXT,
  can_read       INTEGER NOT NULL DEFAULT 1,
  can_write      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE taxii_objects (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  collection_id  TEXT NOT NULL REFERENCES taxii_collections (collection_id) ON DELETE CASCADE,
  object_id      TEXT NOT NULL,
  object_type    TEXT NOT NULL,
  version        TEXT NOT NULL,
  spec_version   TEXT NOT NULL,
  date_added_us  INTEGER NOT NULL,
  object         TEXT NOT NULL,
  UNIQUE (collection_id, object_id, version)
);
CREATE INDEX taxii_objects_by_id ON taxii_objects (collection_id, object_id, version);
CREATE TABLE taxii_status (
  status_id      TEXT PRIMARY KEY,
  collection_id  TEXT NOT NULL,
  created_us     INTEGER NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('pending', 'complete')),
  total_count    INTEGER NOT NULL,
  success_count  INTEGER NOT NULL,
  failure_count  INTEGER NOT NULL,
  pending_count  INTEGER NOT NULL,
  successes      TEXT NOT NULL DEFAULT '[]',
  failures       TEXT NOT NULL DEFAULT '[]',
  pendings       TEXT NOT NULL DEFAULT '[]'
);
`,
  },
  {
    version: 22,
    description: 'alerts shared to a TAXII collection as observed-data + sighting bundles; TAXII server paging indexes',
    sql: `
CREATE TABLE intel_shared_alerts (
  alert_uuid     TEXT PRIMARY KEY,
  last_seen      INTEGER,
  shared_at      INTEGER,
  share_error    TEXT
);
-- TAXII server paging: next tokens and added_after are both a range seek on (collection, date_added).
CREATE INDEX taxii_objects_added ON taxii_objects (collection_id, date_added_us);
`,
  },
];
