// `daemoneye analytics status|train|rollback|features|score`: behavioural models (docs/analytics.md).
import type { Command } from 'commander';
import { getState, listVersions, loadActive, rollback, saveVersion } from '../../analytics/lifecycle/model-store.ts';
import { trainFromStore } from '../../analytics/lifecycle/train-from-store.ts';
import { extractFeatures } from '../../analytics/features/extract-features.ts';
import { loadObservations } from '../../analytics/features/load-observations.ts';
import { FEATURE_NAMES } from '../../analytics/models/iforest-model.ts';
import { scoreTable, scoredCsv, TABLE_MODELS } from '../../analytics/score-table.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { openStoreForWriting, openStoreReadOnly, storePath } from '../../store/open-store.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { formatRows, parseFormat } from '../output.ts';

const FEATURE_COLUMNS = Object.keys(FEATURE_NAMES);
const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);
const iso = (ms: number | null) => (ms === null || !Number.isFinite(ms) || ms === 0 ? '' : new Date(ms).toISOString());

function positiveInt(v: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new DaemonEyeError('DE_USAGE', `${name} must be an integer 0..${max}, not "${v}"`);
  return n;
}

export function registerAnalytics(program: Command): void {
  const analytics = program.command('analytics').description('behavioural analytics: anomaly models over process features');

  analytics
    .command('status')
    .description('the active model version, each model\'s weight (and why a model is weighted 0), stored versions, recent scores')
    .option('-f, --format <format>', 'table | json')
    .addHelpText('after', `
Examples:
  daemoneye analytics status
  daemoneye analytics status --format json`)
    .action((opts: { format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      const ctx = buildContext(global);
      const a = ctx.config.enterprise.analytics;
      const db = openStoreReadOnly(storePath(ctx.dataDir));
      try {
        const versions = listVersions(db);
        const active = versions.find((v) => v.status === 'active') ?? null;
        // An active version that cannot be read back is reported as such (the agent runs as on a cold start).
        let unusable: string | null = null;
        try {
          loadActive(db, a.anomaly_threshold);
        } catch (e) {
          unusable = `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}`;
        }
        const since = Date.now() - 86_400_000;
        const recent = db.prepare(`SELECT count(*) AS scored, coalesce(sum(alerted), 0) AS alerted FROM analytics_scores WHERE scored_at >= ?`).get(since) as { scored: number; alerted: number };
        const status = {
          enabled: a.enable_behavioral_analysis, machine_learning: a.enable_machine_learning, threshold: a.anomaly_threshold,
          training_window_days: a.training_window_days, model_update_interval: a.model_update_interval,
          state: active === null ? 'cold_start' : unusable !== null ? 'unusable' : 'active',
          unusable,
          active_version: active?.version ?? null,
          last_train_at: iso(Number(getState(db, 'last_train_at') ?? 0)),
          last_train_error: getState(db, 'last_train_error') || null,
          scores_24h_at_or_above_0_5: recent.scored, alerts_24h: recent.alerted,
          models: active === null ? [] : JSON.parse(active.models) as Record<string, unknown>[],
          versions: versions.map((v) => ({ version: v.version, status: v.status, created_at: iso(v.created_at), trained_by: v.trained_by,
            training_rows: v.training_rows, excluded_rows: v.excluded_rows, window_days: Math.round((v.window_to - v.window_from) / 86_400_000), duration_ms: Math.round(v.duration_ms) })),
        };
        if (format === 'json') {
          process.stdout.write(JSON.stringify(status, null, 2) + '\n');
          return;
        }
        const lines = [
          `behavioural analysis: ${status.enabled ? 'enabled' : 'disabled (enterprise.analytics.enable_behavioral_analysis: false)'}; threshold ${status.threshold}; window ${status.training_window_days} days; retrain every ${status.model_update_interval} s`,
          active === null
            ? 'state: cold start — no model yet. The agent trains one as soon as the store holds process history; or run `daemoneye analytics train`.'
            : unusable !== null
              ? `state: unusable — version ${active.version} cannot be read back (${unusable}); the agent runs as on a cold start and trains a new version. \`daemoneye analytics rollback\` picks an earlier one.`
              : `state: active — version ${active.version}, trained ${iso(active.created_at)} on ${active.training_rows} observations (${active.excluded_rows} alerted left out)`,
        ];
        if (status.last_train_error) lines.push(`last training problem: ${status.last_train_error}`);
        lines.push(`last 24 h: ${recent.scored} observations scored 0.5 or more, ${recent.alerted} at or above the threshold`, '');
        process.stdout.write(lines.join('\n') + '\n');
        if (active !== null) {
          process.stdout.write(formatRows((status.models as { name: string; family: string; trainingRows: number; ceiling: number; weight: number; note: string }[])
            .map((m) => ({ model: m.name, family: m.family, training_rows: m.trainingRows, ceiling: m.ceiling.toFixed(2), weight: m.weight, note: m.note })), 'table') + '\n');
        }
        process.stdout.write(formatRows(status.versions, 'table'));
      } finally {
        db.close();
      }
    });

  analytics
    .command('train')
    .description('train a new model version now on the store\'s window (it becomes the active version)')
    .option('--window-days <n>', 'days of history (default: enterprise.analytics.training_window_days)')
    .option('--seed <n>', 'random seed of the isolation forest', '1')
    .addHelpText('after', `
A running agent switches to the new version at its next scan. Processes an alert was raised on are
left out of the training data.

Examples:
  daemoneye analytics train
  daemoneye analytics train --window-days 7 --seed 42`)
    .action((opts: { windowDays?: string; seed: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const a = ctx.config.enterprise.analytics;
      const windowDays = opts.windowDays === undefined ? a.training_window_days : positiveInt(opts.windowDays, '--window-days', 365);
      if (windowDays < 1) throw new DaemonEyeError('DE_USAGE', '--window-days must be at least 1');
      const db = openStoreForWriting(storePath(ctx.dataDir));
      try {
        const set = trainFromStore(db, { windowDays, threshold: a.anomaly_threshold, seed: positiveInt(opts.seed, '--seed'), machineLearning: a.enable_machine_learning });
        const version = saveVersion(db, set, 'cli');
        process.stdout.write(`trained version ${version} on ${set.trainingRows} observations (${set.excludedRows} alerted left out) in ${Math.round(set.durationMs)} ms\n`);
        process.stdout.write(formatRows(set.models.map((m) => ({ model: m.name, training_rows: m.trainingRows, ceiling: m.ceiling.toFixed(2), weight: m.weight, note: m.note })), 'table'));
      } finally {
        db.close();
      }
    });

  analytics
    .command('rollback')
    .description('re-activate an earlier model version (default: the one before the active version)')
    .option('--to <version>', 'the version to re-activate')
    .addHelpText('after', `
The version rolled back from is marked rolled_back (kept, never re-activated by a plain rollback).
A running agent switches at its next scan.

Examples:
  daemoneye analytics rollback
  daemoneye analytics rollback --to 3`)
    .action((opts: { to?: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const db = openStoreForWriting(storePath(ctx.dataDir));
      try {
        const r = rollback(db, opts.to === undefined ? undefined : positiveInt(opts.to, '--to'));
        process.stdout.write(`active model version: ${r.to} (was ${r.from ?? 'none'})\n`);
      } finally {
        db.close();
      }
    });

  analytics
    .command('features')
    .description('the feature table of the stored process starts (CSV): what the models see, ready for `analytics score`')
    .option('--days <n>', 'days of history, ending now', '14')
    .option('--until <ms>', 'end of the window (ms since the epoch; default now)')
    .addHelpText('after', `
One row per process start (kernel exec or scan start): id (exec:<id> or lifecycle:<id>), then the
numeric features of docs/analytics.md. Missing resource figures (kernel execs) are left empty.

Examples:
  daemoneye analytics features --days 14 > train.csv
  daemoneye analytics features --days 1 > today.csv
  daemoneye analytics score --train train.csv --input today.csv --features cmdline_length,cmdline_entropy,arg_urls`)
    .action((opts: { days: string; until?: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const days = positiveInt(opts.days, '--days', 365);
      const until = opts.until === undefined ? Date.now() : positiveInt(opts.until, '--until');
      const db = openStoreReadOnly(storePath(ctx.dataDir));
      try {
        const rows = loadObservations(db, { from: until - days * 86_400_000, to: until }).map((o) => ({ id: o.ref, ...extractFeatures(o).numeric }));
        process.stdout.write(formatRows(rows, 'csv', ['id', ...FEATURE_COLUMNS]));
      } finally {
        db.close();
      }
    });

  analytics
    .command('score')
    .description('fit a model on one feature table (CSV) and score another: one line per input row (raw, p, calibrated)')
    .requiredOption('--train <csv>', 'training feature table: a header line, then one row per observation')
    .requiredOption('--input <csv>', 'rows to score (same feature columns)')
    .option('--model <name>', `model: ${TABLE_MODELS.join(' | ')}`, 'iforest')
    .option('--seed <n>', 'random seed: the same seed gives the same scores', '1')
    .option('--trees <n>', 'isolation forest: number of trees', '100')
    .option('--sample-size <n>', 'isolation forest: rows per tree (psi)', '256')
    .option('--features <cols>', 'comma-separated feature columns (default: every column not in --ignore)')
    .option('--ignore <cols>', 'comma-separated columns that are not features', 'id,label')
    .addHelpText('after', `
Output (CSV on stdout): row,raw,p,calibrated
  raw         the model's own score (isolation forest: 2^(-E[h]/c(psi)), ~0.5 ordinary, -> 1 anomalous)
  p           tail probability of raw among the training rows' scores
  calibrated  min(1, -log10(p) / 4): 0.8 is about 1 in 1,600

Examples:
  daemoneye analytics score --model iforest --train week1.csv --input today.csv --seed 42
  daemoneye analytics score --train a.csv --input b.csv --features cmdline_entropy,cmdline_length
  daemoneye analytics score --model rarity --train a.csv --input b.csv --features parent,child`)
    .action((opts: { train: string; input: string; model: string; seed: string; trees: string; sampleSize: string; features?: string; ignore: string }) => {
      const rows = scoreTable(opts.train, opts.input, {
        model: opts.model, seed: Number(opts.seed), trees: Number(opts.trees), sampleSize: Number(opts.sampleSize),
        ignore: list(opts.ignore), ...(opts.features === undefined ? {} : { features: list(opts.features) }),
      });
      process.stdout.write(scoredCsv(rows));
    });
}
