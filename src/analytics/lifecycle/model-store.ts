// Model versions in the store (analytics_model_versions, docs/schema/analytics.md): save a trained
// set as the new active version, load the active one, roll back, list. Bundles are gzip-compressed
// JSON so a version is a few hundred kB, and the last KEEP_VERSIONS are kept.
import { gunzipSync, gzipSync } from 'node:zlib';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { Db } from '../../store/open-store.ts';
import { Ensemble, type ModelStatus, type SavedEnsemble } from '../models/ensemble.ts';

export const KEEP_VERSIONS = 10;

export interface VersionRow {
  readonly version: number;
  readonly created_at: number;
  readonly window_from: number;
  readonly window_to: number;
  readonly training_rows: number;
  readonly excluded_rows: number;
  readonly seed: number;
  readonly status: 'active' | 'inactive' | 'rolled_back';
  readonly trained_by: string;
  readonly duration_ms: number;
  readonly models: string;
}

export interface TrainedSet {
  readonly bundle: Uint8Array;
  readonly models: readonly ModelStatus[];
  readonly trainingRows: number;
  readonly excludedRows: number;
  readonly windowFrom: number;
  readonly windowTo: number;
  readonly seed: number;
  readonly durationMs: number;
}

export function packBundle(saved: SavedEnsemble): Uint8Array {
  return gzipSync(JSON.stringify(saved), { level: 6 });
}

export function unpackBundle(bundle: Uint8Array, version: number): SavedEnsemble {
  try {
    const saved = JSON.parse(gunzipSync(bundle).toString('utf8')) as SavedEnsemble;
    if (saved.format !== 1 || !Array.isArray(saved.models)) throw new Error(`unknown bundle format ${String(saved.format)}`);
    return saved;
  } catch (cause) {
    throw new DaemonEyeError('DE_ANALYTICS_CORRUPT', `model version ${version} cannot be read back`, { cause });
  }
}

export function listVersions(db: Db): VersionRow[] {
  return db.prepare(`SELECT version, created_at, window_from, window_to, training_rows, excluded_rows, seed, status, trained_by,
    duration_ms, models FROM analytics_model_versions ORDER BY version DESC`).all() as VersionRow[];
}

/** The active version with its models, or null on a cold start (no model yet). */
export function loadActive(db: Db, threshold: number): { version: number; ensemble: Ensemble } | null {
  const row = db.prepare(`SELECT version, bundle FROM analytics_model_versions WHERE status = 'active'`).get() as { version: number; bundle: Buffer } | undefined;
  if (row === undefined) return null;
  try {
    return { version: row.version, ensemble: Ensemble.load(unpackBundle(row.bundle, row.version), threshold) };
  } catch (e) {
    if (e instanceof DaemonEyeError) throw e;
    throw new DaemonEyeError('DE_ANALYTICS_CORRUPT', `model version ${row.version} cannot be loaded`, { cause: e });
  }
}

/** Stores a trained set as the new active version (the previous active one becomes inactive). */
export function saveVersion(db: Db, set: TrainedSet, trainedBy: string, now = Date.now()): number {
  return db.transaction(() => {
    db.prepare(`UPDATE analytics_model_versions SET status = 'inactive' WHERE status = 'active'`).run();
    const { lastInsertRowid } = db.prepare(`INSERT INTO analytics_model_versions (created_at, window_from, window_to, training_rows,
      excluded_rows, seed, status, trained_by, duration_ms, models, bundle) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)`).run(
      now, set.windowFrom, set.windowTo, set.trainingRows, set.excludedRows, set.seed, trainedBy, set.durationMs,
      JSON.stringify(set.models), Buffer.from(set.bundle));
    db.prepare(`DELETE FROM analytics_model_versions WHERE status != 'active' AND version NOT IN
      (SELECT version FROM analytics_model_versions ORDER BY version DESC LIMIT ?)`).run(KEEP_VERSIONS);
    setState(db, 'last_train_at', String(now), now);
    return Number(lastInsertRowid);
  })();
}

/**
 * Re-activates an older version: `to`, or else the newest inactive version before the active one.
 * The version rolled back from is marked rolled_back so a later rollback does not return to it.
 */
export function rollback(db: Db, to?: number): { from: number | null; to: number } {
  return db.transaction(() => {
    const active = db.prepare(`SELECT version FROM analytics_model_versions WHERE status = 'active'`).get() as { version: number } | undefined;
    const target = to !== undefined
      ? db.prepare('SELECT version, status FROM analytics_model_versions WHERE version = ?').get(to) as { version: number; status: string } | undefined
      : db.prepare(`SELECT version, status FROM analytics_model_versions WHERE status = 'inactive' AND version < ? ORDER BY version DESC LIMIT 1`)
        .get(active?.version ?? Number.MAX_SAFE_INTEGER) as { version: number; status: string } | undefined;
    if (target === undefined) {
      throw new DaemonEyeError('DE_ANALYTICS_NO_VERSION', to !== undefined ? `no model version ${to}` : `no earlier model version to roll back to${active ? ` (active: ${active.version})` : ''}`);
    }
    if (target.status === 'active') throw new DaemonEyeError('DE_ANALYTICS_NO_VERSION', `version ${target.version} is already active`);
    // Check it loads before switching to it.
    const bundle = (db.prepare('SELECT bundle FROM analytics_model_versions WHERE version = ?').get(target.version) as { bundle: Buffer }).bundle;
    unpackBundle(bundle, target.version);
    if (active) db.prepare(`UPDATE analytics_model_versions SET status = 'rolled_back' WHERE version = ?`).run(active.version);
    db.prepare(`UPDATE analytics_model_versions SET status = 'active' WHERE version = ?`).run(target.version);
    return { from: active?.version ?? null, to: target.version };
  })();
}

export function getState(db: Db, key: string): string | null {
  const row = db.prepare('SELECT value FROM analytics_state WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

export function setState(db: Db, key: string, value: string, now = Date.now()): void {
  db.prepare(`INSERT INTO analytics_state (key, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`).run(key, value, now);
}
