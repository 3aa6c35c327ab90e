// The isolation forest as a Model over the numeric features. Missing values (a feature a source
// cannot supply, e.g. CPU for a kernel exec) take the training median, so they never look unusual.
// Explanations compare each feature with its training percentiles: "command-line entropy 5.9 vs p99 4.1".
import type { FeatureRow } from '../features/feature-row.ts';
import { Calibration, CALIBRATION_MAX, type SavedCalibration } from './calibration.ts';
import { Prng } from './prng.ts';
import { IsolationForest, type SavedForest } from './isolation-forest.ts';
import type { Contribution, FitContext, Model, ModelDescription, ModelScore, SavedModel } from './model.ts';

export const FEATURE_NAMES: Readonly<Record<string, string>> = {
  cmdline_length: 'command-line length',
  cmdline_entropy: 'command-line entropy',
  arg_base64: 'base64 blobs in arguments',
  arg_urls: 'URLs in arguments',
  arg_ip_literals: 'IP literals in arguments',
  child_spawn_rate: 'sibling spawn rate (per min)',
  network_fan_out: 'distinct remote endpoints',
  location_code: 'executable location class',
  hour_of_week: 'hour of week',
  cpu_usage: 'CPU %',
  memory_log2: 'log2 memory',
  lifetime_log2: 'log2 lifetime (s)',
};

interface FeatureStats { readonly p50: number; readonly p99: number; readonly p1: number }

interface State {
  readonly features: string[];
  readonly oneSided?: boolean;
  readonly forest: SavedForest;
  readonly calibration: SavedCalibration;
  readonly stats: FeatureStats[];
}

export class IsolationForestModel implements Model {
  readonly name: string;
  readonly kind = 'iforest';
  readonly family = 'shape';
  readonly features: string[];
  readonly trees: number;
  readonly sampleSize: number;
  /**
   * Security features are one-sided: a short, plain command line is not suspicious, a long encoded one
   * is. With oneSided, values below the training median are raised to it, so the forest can only
   * isolate rows on the high side (the CSV scorer leaves this off and matches scikit-learn).
   */
  readonly oneSided: boolean;
  #forest: IsolationForest | null = null;
  #calibration: Calibration | null = null;
  #stats: FeatureStats[] = [];

  constructor(features: readonly string[], options: { name?: string; trees?: number; sampleSize?: number; oneSided?: boolean } = {}) {
    this.oneSided = options.oneSided ?? false;
    this.features = [...features];
    this.name = options.name ?? 'iforest';
    this.trees = options.trees ?? 100;
    this.sampleSize = options.sampleSize ?? 256;
  }

  #matrix(rows: readonly FeatureRow[]): Float64Array {
    const d = this.features.length;
    const data = new Float64Array(rows.length * d);
    for (let i = 0; i < rows.length; i++) {
      const n = rows[i]!.numeric;
      for (let j = 0; j < d; j++) {
        const v = n[this.features[j]!];
        const median = this.#stats[j]?.p50 ?? 0;
        data[i * d + j] = v === undefined || !Number.isFinite(v) ? median : this.oneSided && v < median ? median : v;
      }
    }
    return data;
  }

  fit(rows: readonly FeatureRow[], context: FitContext): void {
    const d = this.features.length;
    // Medians first: they fill the missing values of the training matrix too.
    // Percentiles from at most CALIBRATION_MAX rows (a uniform sample): exact enough, and cheap on a million.
    const statRows = rows.length <= CALIBRATION_MAX ? rows : Array.from(new Prng(context.seed ^ 0x57a7).sample(rows.length, CALIBRATION_MAX), (i) => rows[i]!);
    this.#stats = this.features.map((f) => {
      const values = Float64Array.from(statRows.map((r) => r.numeric[f]).filter((v): v is number => v !== undefined && Number.isFinite(v))).sort();
      const q = (p: number) => (values.length === 0 ? 0 : values[Math.min(values.length - 1, Math.floor(p * values.length))]!);
      return { p1: q(0.01), p50: q(0.5), p99: q(0.99) };
    });
    const data = this.#matrix(rows);
    const matrix = { data, rows: rows.length, cols: d };
    this.#forest = new IsolationForest({ trees: this.trees, sampleSize: this.sampleSize, seed: context.seed }).fit(matrix);
    // Calibration keeps at most CALIBRATION_MAX scores: score a uniform sample of that size rather
    // than every row (on a million rows that is most of the training time).
    if (rows.length <= CALIBRATION_MAX) {
      this.#calibration = Calibration.fromScores(this.#forest.score(matrix), context.seed);
    } else {
      const pick = new Prng(context.seed ^ 0x5eed).sample(rows.length, CALIBRATION_MAX);
      const sample = new Float64Array(pick.length * d);
      pick.forEach((r, i) => sample.set(data.subarray(r * d, (r + 1) * d), i * d));
      const scores = this.#forest.score({ data: sample, rows: pick.length, cols: d }).sort();
      this.#calibration = new Calibration(scores, rows.length);
    }
  }

  score(rows: readonly FeatureRow[]): ModelScore[] {
    const forest = this.#forest;
    const cal = this.#calibration;
    if (forest === null || cal === null) throw new Error(`${this.name} is not fitted`);
    const d = this.features.length;
    const data = this.#matrix(rows);
    const raw = forest.score({ data, rows: rows.length, cols: d });
    return rows.map((_, i) => {
      const p = cal.tail(raw[i]!);
      const calibrated = cal.calibrated(raw[i]!);
      return { model: this.name, raw: raw[i]!, p, calibrated, contributions: calibrated > 0.3 ? this.#explain(data, i * d, calibrated) : [] };
    });
  }

  /** Features beyond their training p99 (or below p1), the furthest first (in units of the p50-p99 spread). */
  #explain(data: Float64Array, offset: number, calibrated: number): Contribution[] {
    const out: { c: Contribution; k: number }[] = [];
    this.features.forEach((f, j) => {
      const v = data[offset + j]!;
      const s = this.#stats[j]!;
      const spread = Math.max(s.p99 - s.p50, s.p50 - s.p1, 1e-9);
      const name = FEATURE_NAMES[f] ?? f;
      if (v > s.p99) out.push({ k: (v - s.p99) / spread, c: { feature: f, value: round(v), text: `${name} ${round(v)} vs p99 ${round(s.p99)}`, weight: calibrated } });
      else if (v < s.p1 && !this.oneSided) out.push({ k: (s.p1 - v) / spread, c: { feature: f, value: round(v), text: `${name} ${round(v)} vs p1 ${round(s.p1)}`, weight: calibrated } });
    });
    return out.sort((a, b) => b.k - a.k).slice(0, 3).map((o) => o.c);
  }

  save(): SavedModel {
    if (this.#forest === null || this.#calibration === null) throw new Error(`${this.name} is not fitted`);
    const state: State = { features: this.features, oneSided: this.oneSided, forest: this.#forest.save(), calibration: this.#calibration.save(), stats: this.#stats };
    return { kind: this.kind, name: this.name, state };
  }

  static load(saved: SavedModel): IsolationForestModel {
    const s = saved.state as State;
    const m = new IsolationForestModel(s.features, { name: saved.name, trees: s.forest.options.trees, sampleSize: s.forest.options.sampleSize, oneSided: s.oneSided ?? false });
    m.#forest = IsolationForest.load(s.forest);
    m.#calibration = Calibration.load(s.calibration);
    m.#stats = s.stats;
    return m;
  }

  describe(): ModelDescription {
    return {
      name: this.name, kind: this.kind, family: this.family, trainingRows: this.#calibration?.trainingRows ?? 0,
      ceiling: this.#calibration?.ceiling ?? 0,
      params: { features: this.features, one_sided: this.oneSided, trees: this.trees, sample_size: this.sampleSize, seed: this.#forest?.options.seed ?? null },
    };
  }
}

export function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
}
