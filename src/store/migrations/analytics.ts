// Migrations for the analytics tables: versions 30-39 are reserved for them (see ../migrations.ts).
// docs/schema/analytics.md documents every table and column.
import type { Migration } from '../migrations.ts';

export const ANALYTICS_MIGRATIONS: readonly Migration[] = [
  {
    version: 30,
    description: 'behavioural model versions, notable anomaly scores, analytics state',
    sql: `
-- Every trained model set is kept as a version; exactly one is active (rollback re-activates an older one).
CREATE TABLE analytics_model_versions (
  version        INTEGER PRIMARY KEY,
  created_at     INTEGER NOT NULL,
  window_from    INTEGER NOT NULL,
  window_to      INTEGER NOT NULL,
  training_rows  INTEGER NOT NULL,
  excluded_rows  INTEGER NOT NULL,
  seed           INTEGER NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('active', 'inactive', 'rolled_back')),
  trained_by     TEXT    NOT NULL,
  duration_ms    REAL    NOT NULL,
  models         TEXT    NOT NULL,
  bundle         BLOB    NOT NULL
);
CREATE UNIQUE INDEX analytics_one_active ON analytics_model_versions (status) WHERE status = 'active';

-- Scores of 0.5 and above (1 in 100 or rarer), with their explanation: what analysts look at and
-- what retraining leaves out when it was alerted.
CREATE TABLE analytics_scores (
  id              INTEGER PRIMARY KEY,
  scored_at       INTEGER NOT NULL,
  model_version   INTEGER NOT NULL,
  ref             TEXT    NOT NULL,
  pid             INTEGER NOT NULL,
  start_time      INTEGER NOT NULL,
  executable_path TEXT,
  command_line    TEXT    NOT NULL,
  score           REAL    NOT NULL,
  p               REAL    NOT NULL,
  alerted         INTEGER NOT NULL,
  explanation     TEXT    NOT NULL,
  models          TEXT    NOT NULL
);
CREATE INDEX analytics_scores_time ON analytics_scores (scored_at);

CREATE TABLE analytics_state (
  key        TEXT    PRIMARY KEY,
  value      TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
  },
];
