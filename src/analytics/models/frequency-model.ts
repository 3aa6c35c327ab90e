// Rarity of a categorical feature (parent → child pair, executable path, user × executable) on this
// host. Rarity is first *irregularity*: on how many days of the window the value was seen (logrotate
// runs once a day and is as regular as cron every minute; htop twice in two weeks is not). Between
// values seen on the same number of days, the rarer by count is the more surprising. The surprise is
// -log10 of an additively smoothed probability (alpha = 0.5, one extra bucket for values never seen).
// Calibration uses leave-one-out scores: a training row is scored as if it were not in the counts, so
// a value seen once in training scores as "never seen". The tail probability of "never seen" is then
// the share of singletons in the window, the Good-Turing estimate of how often a genuinely new value
// turns up on this host.
import type { FeatureRow } from '../features/feature-row.ts';
import { Calibration, type SavedCalibration } from './calibration.ts';
import type { FitContext, Model, ModelDescription, ModelScore, SavedModel } from './model.ts';

const ALPHA = 0.5;
/** The count surprise only orders values seen on the same number of days (it is at most ~0.01). */
const COUNT_WEIGHT = 0.001;

export const KEY_NAMES: Readonly<Record<string, (value: string, seen: number, days: number, window: number) => string>> = {
  parent_child: (v, n, d, w) => `parent ${v.replace(' → ', ' → child ')} seen ${n} times${on(n, d)} in ${w} days on this host`,
  executable_path: (v, n, d, w) => `executable ${v} run ${n} times${on(n, d)} in ${w} days on this host`,
  user_executable: (v, n, d, w) => `user × executable ${v} seen ${n} times${on(n, d)} in ${w} days on this host`,
  location_class: (v, n, d, w) => `a program in a ${v} location started ${n} times${on(n, d)} in ${w} days on this host`,
};

function on(n: number, days: number): string {
  return n === 0 || days <= 1 ? '' : ` on ${days} days`;
}

interface State {
  readonly key: string;
  readonly family?: string;
  readonly counts: [string, number][];
  readonly days?: [string, number][];
  readonly total: number;
  readonly windowDays: number;
  readonly calibration: SavedCalibration;
}

export class FrequencyModel implements Model {
  readonly name: string;
  readonly kind = 'rarity';
  readonly family: string;
  readonly key: string;
  #counts = new Map<string, number>();
  /** Distinct days each value was seen on. */
  #days = new Map<string, number>();
  #total = 0;
  #windowDays = 0;
  #calibration: Calibration | null = null;

  constructor(key: string, name = `rarity:${key}`, family = 'rarity') {
    this.key = key;
    this.name = name;
    this.family = family;
  }

  #surprise(count: number, days: number): number {
    const w = Math.max(1, this.#windowDays);
    const daySurprise = -Math.log10((Math.min(days, w) + ALPHA) / (w + 2 * ALPHA));
    const countSurprise = -Math.log10((count + ALPHA) / (this.#total + ALPHA * (this.#counts.size + 1)));
    return daySurprise + COUNT_WEIGHT * countSurprise;
  }

  fit(rows: readonly FeatureRow[], context: FitContext): void {
    this.#counts = new Map();
    const perDay = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const v = r.categorical[this.key] ?? '';
      this.#counts.set(v, (this.#counts.get(v) ?? 0) + 1);
      const day = r.label['day'] ?? '0';
      const m = perDay.get(v) ?? new Map<string, number>();
      m.set(day, (m.get(day) ?? 0) + 1);
      perDay.set(v, m);
    }
    this.#days = new Map([...perDay].map(([v, m]) => [v, m.size]));
    this.#total = rows.length;
    this.#windowDays = context.windowDays;
    // Leave-one-out: each row scored against the counts without itself (one fewer day when it was
    // that value's only occurrence that day). The denominators stay the full window's, so a left-out
    // singleton scores exactly like a value never seen: they tie.
    const scores = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const v = r.categorical[this.key] ?? '';
      const alone = perDay.get(v)!.get(r.label['day'] ?? '0') === 1;
      scores[i] = this.#surprise(this.#counts.get(v)! - 1, this.#days.get(v)! - (alone ? 1 : 0));
    }
    this.#calibration = Calibration.fromScores(scores, context.seed);
  }

  score(rows: readonly FeatureRow[]): ModelScore[] {
    const cal = this.#calibration;
    if (cal === null) throw new Error(`${this.name} is not fitted`);
    const describe = KEY_NAMES[this.key] ?? ((v: string, n: number, d: number, w: number) => `${this.key} ${v} seen ${n} times${on(n, d)} in ${w} days`);
    return rows.map((r) => {
      const v = r.categorical[this.key] ?? '';
      const seen = this.#counts.get(v) ?? 0;
      const days = this.#days.get(v) ?? 0;
      const raw = this.#surprise(seen, days);
      const p = cal.tail(raw);
      const calibrated = cal.calibrated(raw);
      return {
        model: this.name, raw, p, calibrated,
        contributions: calibrated > 0.3 ? [{ feature: this.key, value: v, text: describe(v, seen, days, Math.round(this.#windowDays)), weight: calibrated }] : [],
      };
    });
  }

  /** How often a value was seen in training (explanations and tests). */
  seen(value: string): number {
    return this.#counts.get(value) ?? 0;
  }

  save(): SavedModel {
    if (this.#calibration === null) throw new Error(`${this.name} is not fitted`);
    const state: State = { key: this.key, family: this.family, counts: [...this.#counts], days: [...this.#days], total: this.#total, windowDays: this.#windowDays, calibration: this.#calibration.save() };
    return { kind: this.kind, name: this.name, state };
  }

  static load(saved: SavedModel): FrequencyModel {
    const s = saved.state as State;
    const m = new FrequencyModel(s.key, saved.name, s.family ?? 'rarity');
    m.#counts = new Map(s.counts);
    m.#days = new Map(s.days ?? s.counts.map(([v, n]) => [v, Math.min(n, 1)]));
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
