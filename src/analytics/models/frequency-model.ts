// Rarity of a categorical feature (parent → child pair, executable path, user × executable) on this
// host. The probability of a value is smoothed (additive, alpha = 0.5, one extra bucket for values
// never seen) and the raw score is its surprise, -log10 P. Calibration uses leave-one-out scores:
// a training row is scored as if it were not in the counts, so a value seen once in training scores
// as "never seen". The tail probability of "never seen" is then the share of singletons in the
// window, which is the Good-Turing estimate of how often a genuinely new value turns up.
import type { FeatureRow } from '../features/feature-row.ts';
import { Calibration, type SavedCalibration } from './calibration.ts';
import type { FitContext, Model, ModelDescription, ModelScore, SavedModel } from './model.ts';

const ALPHA = 0.5;

export const KEY_NAMES: Readonly<Record<string, (value: string, seen: number, days: number) => string>> = {
  parent_child: (v, n, d) => `parent ${v.replace(' → ', ' → child ')} seen ${n} times in ${d} days on this host`,
  executable_path: (v, n, d) => `executable ${v} run ${n} times in ${d} days on this host`,
  user_executable: (v, n, d) => `user × executable ${v} seen ${n} times in ${d} days on this host`,
};

interface State {
  readonly key: string;
  readonly counts: [string, number][];
  readonly total: number;
  readonly windowDays: number;
  readonly calibration: SavedCalibration;
}

export class FrequencyModel implements Model {
  readonly name: string;
  readonly kind = 'rarity';
  readonly family = 'rarity';
  readonly key: string;
  #counts = new Map<string, number>();
  #total = 0;
  #windowDays = 0;
  #calibration: Calibration | null = null;

  constructor(key: string, name = `rarity:${key}`) {
    this.key = key;
    this.name = name;
  }

  #surprise(count: number, total: number, distinct: number): number {
    return -Math.log10((count + ALPHA) / (total + ALPHA * (distinct + 1)));
  }

  fit(rows: readonly FeatureRow[], context: FitContext): void {
    this.#counts = new Map();
    for (const r of rows) {
      const v = r.categorical[this.key] ?? '';
      this.#counts.set(v, (this.#counts.get(v) ?? 0) + 1);
    }
    this.#total = rows.length;
    this.#windowDays = context.windowDays;
    // Leave-one-out: each row scored against the counts without itself.
    // The denominator stays the full window's, so a left-out singleton scores exactly like a value
    // never seen at all: they tie, and "never seen" gets p = (singletons + 1) / (n + 1).
    const distinct = this.#counts.size;
    const scores = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const c = this.#counts.get(rows[i]!.categorical[this.key] ?? '')! - 1;
      scores[i] = this.#surprise(c, this.#total, distinct);
    }
    this.#calibration = Calibration.fromScores(scores, context.seed);
  }

  score(rows: readonly FeatureRow[]): ModelScore[] {
    const cal = this.#calibration;
    if (cal === null) throw new Error(`${this.name} is not fitted`);
    const describe = KEY_NAMES[this.key] ?? ((v: string, n: number, d: number) => `${this.key} ${v} seen ${n} times in ${d} days`);
    return rows.map((r) => {
      const v = r.categorical[this.key] ?? '';
      const seen = this.#counts.get(v) ?? 0;
      const raw = this.#surprise(seen, this.#total, this.#counts.size);
      const p = cal.tail(raw);
      const calibrated = cal.calibrated(raw);
      return {
        model: this.name, raw, p, calibrated,
        contributions: calibrated > 0.3 ? [{ feature: this.key, value: v, text: describe(v, seen, Math.round(this.#windowDays)), weight: calibrated }] : [],
      };
    });
  }

  /** How often a value was seen in training (explanations and tests). */
  seen(value: string): number {
    return this.#counts.get(value) ?? 0;
  }

  save(): SavedModel {
    if (this.#calibration === null) throw new Error(`${this.name} is not fitted`);
    const state: State = { key: this.key, counts: [...this.#counts], total: this.#total, windowDays: this.#windowDays, calibration: this.#calibration.save() };
    return { kind: this.kind, name: this.name, state };
  }

  static load(saved: SavedModel): FrequencyModel {
    const s = saved.state as State;
    const m = new FrequencyModel(s.key, saved.name);
    m.#counts = new Map(s.counts);
    m.#total = s.total;
    m.#windowDays = s.windowDays;
    m.#calibration = Calibration.load(s.calibration);
    return m;
  }

  describe(): ModelDescription {
    return {
      name: this.name, kind: this.kind, family: this.family, trainingRows: this.#total, ceiling: this.#calibration?.ceiling ?? 0,
      params: { key: this.key, distinct_values: this.#counts.size, alpha: ALPHA, window_days: this.#windowDays },
    };
  }
}
