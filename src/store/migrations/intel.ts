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
];
