// `daemoneye analytics score`: fit one model on a training feature table and score another, one
// output row per input row (raw score, tail probability, calibrated score). Analysts use it to try a
// model on exported data; the sklearn comparison test uses it as the "ours" side.
import { DaemonEyeError } from '../errors/catalogue.ts';
import { readCsvFile, toFeatureMatrix, type CsvTable } from './csv-table.ts';
import type { FeatureRow } from './features/feature-row.ts';
import { FrequencyModel } from './models/frequency-model.ts';
import { IsolationForestModel } from './models/iforest-model.ts';
import type { Model } from './models/model.ts';

export interface ScoreTableOptions {
  readonly model: string;
  readonly seed: number;
  readonly trees: number;
  readonly sampleSize: number;
  readonly features?: readonly string[];
  readonly ignore: readonly string[];
}

export interface ScoredRow { readonly row: number; readonly raw: number; readonly p: number; readonly calibrated: number }

export const TABLE_MODELS = ['iforest', 'rarity'] as const;

function numericRows(table: CsvTable, source: string, opts: ScoreTableOptions, columns?: readonly string[]): { rows: FeatureRow[]; columns: string[] } {
  const { matrix, columns: cols } = toFeatureMatrix(table, source, { features: columns ?? opts.features, ignore: opts.ignore });
  const rows: FeatureRow[] = [];
  for (let i = 0; i < matrix.rows; i++) {
    const numeric: Record<string, number> = {};
    cols.forEach((c, j) => { numeric[c] = matrix.data[i * cols.length + j]!; });
    rows.push({ numeric, categorical: {}, label: {} });
  }
  return { rows, columns: cols };
}

/** Rarity of one categorical column, or of the tuple of several (joined with " | "). */
function categoricalRows(table: CsvTable, source: string, opts: ScoreTableOptions): FeatureRow[] {
  const cols = opts.features ?? table.header.filter((h) => !opts.ignore.includes(h));
  const at = cols.map((c) => {
    const i = table.header.indexOf(c);
    if (i < 0) throw new DaemonEyeError('DE_ANALYTICS_CSV', `${source} has no column "${c}"`);
    return i;
  });
  return table.rows.map((r) => ({ numeric: {}, categorical: { value: at.map((i) => r[i]!).join(' | ') }, label: {} }));
}

export function scoreTable(trainPath: string, inputPath: string, opts: ScoreTableOptions): ScoredRow[] {
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new DaemonEyeError('DE_ANALYTICS_MODEL', `--seed must be a non-negative integer, not ${opts.seed}`);
  if (!Number.isInteger(opts.trees) || opts.trees < 1 || opts.trees > 10_000) throw new DaemonEyeError('DE_ANALYTICS_MODEL', `--trees must be 1..10000, not ${opts.trees}`);
  if (!Number.isInteger(opts.sampleSize) || opts.sampleSize < 2) throw new DaemonEyeError('DE_ANALYTICS_MODEL', `--sample-size must be an integer >= 2, not ${opts.sampleSize}`);
  const train = readCsvFile(trainPath);
  const input = readCsvFile(inputPath);
  let model: Model;
  let trainRows: FeatureRow[];
  let inputRows: FeatureRow[];
  if (opts.model === 'iforest') {
    const t = numericRows(train, trainPath, opts);
    trainRows = t.rows;
    inputRows = numericRows(input, inputPath, opts, t.columns).rows;
    model = new IsolationForestModel(t.columns, { trees: opts.trees, sampleSize: opts.sampleSize });
  } else if (opts.model === 'rarity') {
    trainRows = categoricalRows(train, trainPath, opts);
    inputRows = categoricalRows(input, inputPath, { ...opts, features: opts.features ?? train.header.filter((h) => !opts.ignore.includes(h)) });
    model = new FrequencyModel('value');
  } else {
    throw new DaemonEyeError('DE_ANALYTICS_MODEL', `no table model "${opts.model}" (choose ${TABLE_MODELS.join(' or ')})`,
      { hint: 'baseline models need executable names and resource columns: they train from the store (`daemoneye analytics train`)' });
  }
  if (trainRows.length < 2) throw new DaemonEyeError('DE_ANALYTICS_TOO_FEW_ROWS', `${trainPath} has ${trainRows.length} data rows`);
  model.fit(trainRows, { windowDays: 0, seed: opts.seed });
  return model.score(inputRows).map((s, i) => ({ row: i + 1, raw: s.raw, p: s.p, calibrated: s.calibrated }));
}

export function scoredCsv(rows: readonly ScoredRow[]): string {
  return ['row,raw,p,calibrated', ...rows.map((r) => `${r.row},${r.raw.toPrecision(8)},${r.p.toPrecision(6)},${r.calibrated.toFixed(4)}`)].join('\n') + '\n';
}
