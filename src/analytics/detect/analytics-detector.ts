// The behavioural detector (issue 7): after each scan, and after kernel batches, it scores the
// process starts stored since its cursor with the active model version and turns scores at or above
// enterprise.analytics.anomaly_threshold into DE-ANOM-0001 findings whose evidence explains them.
// It also owns the model lifecycle on the agent: a cold start (no model yet) trains as soon as there
// is history, and the active version is retrained every model_update_interval in a worker thread
// while detection keeps using the old version.
import Database from 'better-sqlite3';
import type { RuleMeta } from '../../detect/sql/rule.ts';
import { CURSOR_START, type DetectionContext, type DetectionRun, type Detector, type Finding, type RuleCursor } from '../../detect/detector.ts';
import type { Db } from '../../store/open-store.ts';
import { extractFeatures } from '../features/extract-features.ts';
import { loadObservations } from '../features/load-observations.ts';
import type { ProcessObservation } from '../features/feature-row.ts';
import type { Ensemble, RowScore } from '../models/ensemble.ts';
import { getState, loadActive, saveVersion, setState } from '../lifecycle/model-store.ts';
import { trainInWorker } from '../lifecycle/train-in-worker.ts';
import { readFleetView } from '../fleet/fleet-view.ts';
import { FleetRarityModel } from '../models/fleet-model.ts';

export const ANOMALY_RULE: RuleMeta = {
  id: 'DE-ANOM-0001', name: 'Behavioural anomaly', version: 1, severity: 'medium', attack: [],
  tags: ['anomaly', 'analytics'], kind: 'event',
};

/** Scores at or above this are kept in analytics_scores (1 in 100 or rarer). */
const KEEP_SCORE = 0.5;
/** A scoring pass looks back at most this far (after a long stop the agent does not replay history). */
const MAX_LOOKBACK_MS = 3_600_000;
/** analytics_scores rows older than this are deleted at each training. */
const SCORES_KEPT_DAYS = 90;
/** Cold start: try to train at most this often until a first model exists. */
const COLD_RETRY_MS = 600_000;

export interface AnalyticsDetectorOptions {
  readonly dbPath: string;
  readonly threshold: number;
  readonly windowDays: number;
  /** Seconds between retrains. */
  readonly updateInterval: number;
  readonly seed?: number;
  /** Include the isolation forest (enterprise.analytics.enable_machine_learning). */
  readonly machineLearning?: boolean;
  readonly log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
  /** Tests and benchmarks pass false to drive training themselves. */
  readonly autoTrain?: boolean;
}

export type AnalyticsState = 'cold_start' | 'active';

export class AnalyticsDetector implements Detector {
  readonly name = 'analytics';
  readonly #o: AnalyticsDetectorOptions;
  readonly #db: Db;
  #model: { version: number; ensemble: Ensemble } | null;
  #training: Promise<void> | null = null;
  #closed = false;
  /** Recent exec times per parent pid: sibling counts without re-reading 5 minutes every pass. */
  readonly #recentSpawns = new Map<number, number[]>();
  /** The active version that failed to load (not retried every scan). */
  #unusable: number | null = null;
  #insertScore;
  #activeQuery;

  constructor(options: AnalyticsDetectorOptions) {
    this.#o = options;
    this.#db = new Database(options.dbPath);
    this.#db.pragma('busy_timeout = 5000');
    this.#model = this.#loadActive();
    // The rules table is where every rule and model reports its runs and keeps its cursor.
    this.#db.prepare(`INSERT INTO rules (rule_id, name, version, severity, source, enabled, sql_sha256, loaded_at)
      VALUES (?, ?, ?, ?, 'builtin:analytics', 1, '', ?) ON CONFLICT (rule_id) DO UPDATE SET enabled = 1`)
      .run(ANOMALY_RULE.id, ANOMALY_RULE.name, ANOMALY_RULE.version, ANOMALY_RULE.severity, Date.now());
    this.#activeQuery = this.#db.prepare(`SELECT version FROM analytics_model_versions WHERE status = 'active'`);
    this.#insertScore = this.#db.prepare(`INSERT INTO analytics_scores (scored_at, model_version, ref, pid, start_time, executable_path,
      command_line, score, p, alerted, explanation, models) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  get state(): AnalyticsState {
    return this.#model === null ? 'cold_start' : 'active';
  }

  get modelVersion(): number | null {
    return this.#model?.version ?? null;
  }

  /** Resolves when a retrain started by detect() has finished (tests, benchmarks, shutdown). */
  get training(): Promise<void> | null {
    return this.#training;
  }

  async detect(context: DetectionContext): Promise<DetectionRun> {
    const started = performance.now();
    const cursor = context.cursors.get(ANOMALY_RULE.id) ?? CURSOR_START;
    if (context.trigger === 'scan') {
      try {
        // `daemoneye analytics train|rollback` change the active version under a running agent.
        const active = (this.#activeQuery.get() as { version: number } | undefined)?.version ?? null;
        if (active !== (this.#model?.version ?? null) && active !== this.#unusable) this.reload();
        if (this.#o.autoTrain !== false) this.#maybeRetrain();
        this.refreshFleetView();
      } catch (e) {
        // Model housekeeping must never cost a detection pass (a busy store is retried next scan).
        this.#o.log?.('warn', 'analytics model check failed', { reason: (e as Error).message });
      }
    }
    // Kernel passes read exec rows only; the scan's lifecycle rows are left for the scan pass.
    // Packet batches (trigger 'network') carry no process starts: both cursors stay where they are.
    const next: RuleCursor = context.trigger === 'scan' ? context.heads
      : context.trigger === 'kernel' ? { ...context.heads, lifecycle: cursor.lifecycle }
        : { ...context.heads, lifecycle: cursor.lifecycle, exec: cursor.exec };
    const outcome = (rows: number) => ({
      ruleId: ANOMALY_RULE.id, status: 'ok' as const, durationMs: performance.now() - started, rows, truncated: false,
      error: null, cursor: next, clearsWhenAbsent: false,
    });
    const model = this.#model;
    // Cold start: nothing to score with yet. The cursor still moves on: history is for training.
    if (model === null || context.trigger === 'network') return { findings: [], outcomes: [outcome(0)] };
    try {
      const observations = this.#newObservations(cursor, next);
      const findings = this.scoreObservations(observations, model);
      return { findings, outcomes: [outcome(findings.length)] };
    } catch (e) {
      // Like a failed rule: reported in the outcome, the old cursor kept so the rows are scored next
      // time, and the detectors after this one still run.
      return { findings: [], outcomes: [{ ...outcome(0), status: 'error', error: (e as Error).message, cursor }] };
    }
  }

  #newObservations(from: RuleCursor, to: RuleCursor): ProcessObservation[] {
    const now = Date.now();
    const firstExec = (this.#db.prepare('SELECT min(time) AS t FROM process_exec WHERE id > ? AND id <= ?').get(from.exec, to.exec) as { t: number | null }).t;
    const firstStart = (this.#db.prepare(`SELECT min(detected_at) AS t FROM process_lifecycle WHERE id > ? AND id <= ?`).get(from.lifecycle, to.lifecycle) as { t: number | null }).t;
    const first = Math.min(firstExec ?? Infinity, firstStart ?? Infinity);
    if (first === Infinity) return [];
    return loadObservations(this.#db, {
      from: Math.max(first, now - MAX_LOOKBACK_MS), to: now + 1,
      execAfter: from.exec, execTo: to.exec, lifecycleAfter: from.lifecycle, lifecycleTo: to.lifecycle,
      recentSpawns: this.#recentSpawns,
    });
  }

  /** Scores observations with a model and returns the findings; notable scores go to analytics_scores. */
  scoreObservations(observations: readonly ProcessObservation[], model = this.#model): Finding[] {
    if (model === null || observations.length === 0) return [];
    const scores = model.ensemble.score(observations.map(extractFeatures));
    const findings = new Map<string, { f: Finding; score: number }>();
    const now = Date.now();
    this.#db.transaction(() => {
      observations.forEach((o, i) => {
        const s = scores[i]!;
        if (s.score < KEEP_SCORE) return;
        const alerted = s.score >= this.#o.threshold;
        this.#insertScore.run(now, model.version, o.ref, o.pid, o.start_time, o.executable_path, o.command_line.slice(0, 1000),
          s.score, s.p, alerted ? 1 : 0, s.explanation, JSON.stringify(modelsEvidence(s)));
        if (!alerted) return;
        const f = toFinding(o, s, model.version);
        const key = String(f.row['dedup_key']);
        const prev = findings.get(key);
        if (prev === undefined || s.score > prev.score) findings.set(key, { f, score: s.score });
      });
    })();
    return [...findings.values()].map((v) => v.f);
  }

  #maybeRetrain(now = Date.now()): void {
    if (this.#training !== null || this.#closed) return;
    const attempted = Number(getState(this.#db, 'last_train_attempt_at') ?? 0);
    const trained = Number(getState(this.#db, 'last_train_at') ?? 0);
    const due = this.#model === null ? now - attempted >= Math.min(COLD_RETRY_MS, this.#o.updateInterval * 1000)
      : now - trained >= this.#o.updateInterval * 1000;
    if (!due) return;
    setState(this.#db, 'last_train_attempt_at', String(now), now);
    this.#training = this.retrain(this.#model === null ? 'cold_start' : 'schedule')
      .then(() => undefined, (e: unknown) => {
        const code = (e as { code?: string }).code ?? null;
        if (!this.#closed) setState(this.#db, 'last_train_error', `${code ?? 'error'}: ${(e as Error).message}`);
        // Too little history is the normal cold start, not a warning.
        this.#o.log?.(code === 'DE_ANALYTICS_TOO_FEW_ROWS' ? 'info' : 'warn', 'analytics training', { code: code ?? '', reason: (e as Error).message });
      })
      .finally(() => { this.#training = null; });
  }

  /** Trains on the store's window in a worker thread, saves the new version and switches to it. */
  async retrain(trainedBy: string): Promise<number> {
    const set = await trainInWorker(this.#o.dbPath, { windowDays: this.#o.windowDays, threshold: this.#o.threshold, seed: this.#o.seed ?? 1,
      machineLearning: this.#o.machineLearning ?? true });
    if (this.#closed) return -1;
    const version = saveVersion(this.#db, set, trainedBy);
    // Notable scores are evidence for a while, not forever: pruned with each training.
    this.#db.prepare('DELETE FROM analytics_scores WHERE scored_at < ?').run(Date.now() - SCORES_KEPT_DAYS * 86_400_000);
    setState(this.#db, 'last_train_error', '');
    this.#model = this.#loadActive();
    this.#o.log?.('info', 'analytics model trained', { version, rows: set.trainingRows, excluded: set.excludedRows, ms: Math.round(set.durationMs) });
    return version;
  }

  /**
   * A fleet view newer than the active model's (the center reporter fetched one) is used at once:
   * the fleet model recalibrates from its training counts, and the version's model list is updated
   * so `daemoneye analytics status` shows the fleet model's weight as it is now.
   */
  refreshFleetView(): boolean {
    const model = this.#model;
    const fleet = model?.ensemble.models.find((m): m is FleetRarityModel => m instanceof FleetRarityModel);
    if (model === null || fleet === undefined) return false;
    const view = readFleetView(this.#db);
    if (view === null || view.fetched_at === fleet.view?.fetched_at) return false;
    fleet.useView(view);
    this.#db.prepare('UPDATE analytics_model_versions SET models = ? WHERE version = ?').run(JSON.stringify(model.ensemble.status()), model.version);
    this.#o.log?.('info', 'analytics fleet view applied', { fleet_hosts: view.hosts, revision: view.revision });
    return true;
  }

  /** Re-reads the active version (after `daemoneye analytics rollback` or `train`). */
  reload(): void {
    this.#model = this.#loadActive();
  }

  /**
   * A version that cannot be read back must not stop the agent: it runs as on a cold start (and so
   * trains a fresh version) and says why; `daemoneye analytics rollback` can pick an older one.
   */
  #loadActive(): { version: number; ensemble: Ensemble } | null {
    try {
      return loadActive(this.#db, this.#o.threshold);
    } catch (e) {
      this.#unusable = (this.#db.prepare(`SELECT version FROM analytics_model_versions WHERE status = 'active'`).get() as { version: number } | undefined)?.version ?? null;
      const code = (e as { code?: string }).code ?? 'error';
      this.#o.log?.('warn', 'analytics model unusable', { code, reason: (e as Error).message });
      setState(this.#db, 'last_train_error', `${code}: ${(e as Error).message}`);
      return null;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#db.close();
  }
}

function modelsEvidence(s: RowScore): { model: string; raw: number; p: number; calibrated: number }[] {
  return s.models.map((m) => ({ model: m.model, raw: Number(m.raw.toPrecision(6)), p: Number(m.p.toPrecision(4)), calibrated: Number(m.calibrated.toFixed(3)) }));
}

/**
 * One alert per behaviour (executable, parent, user) and day: the same unusual thing repeating all
 * afternoon is one alert with occurrences counted, and tomorrow it is news again.
 */
export function behaviourDedupKey(o: ProcessObservation): string {
  return `anom|${o.executable_path ?? o.name}|${o.parent_path ?? o.parent_name ?? '?'}|${o.user}|${new Date(o.start_time).toISOString().slice(0, 10)}`;
}

function toFinding(o: ProcessObservation, s: RowScore, version: number): Finding {
  const who = `${o.parent_name ?? '?'} → ${o.name}`;
  return {
    rule: ANOMALY_RULE,
    row: {
      pid: o.pid, name: o.name, executable_path: o.executable_path, command_line: o.command_line, start_time: o.start_time,
      ppid: o.ppid, parent_name: o.parent_name, parent_path: o.parent_path, user: o.user, ref: o.ref,
      dedup_key: behaviourDedupKey(o),
      reason: `anomalous process ${who} (score ${s.score.toFixed(2)}): ${s.explanation || 'several features unusual together'}`,
      score: Number(s.score.toFixed(4)), p: Number(s.p.toPrecision(4)), model_version: version,
      explanation: s.explanation, contributions: s.contributions, models: modelsEvidence(s),
    },
  };
}
