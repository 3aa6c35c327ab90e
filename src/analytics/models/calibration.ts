// A raw model score is not a probability. Each model keeps the distribution of its scores on its
// training data and maps a new score s to the tail probability p = P(train score >= s), smoothed as
// (k + 1) / (n + 1) so it is never 0; the calibrated score is min(1, -log10(p) / 4): 0.5 is 1 in 100,
// 0.8 about 1 in 1,600, 1.0 is 1 in 10,000 or rarer. With n training scores the smallest p is 1/(n+1),
// so a model whose history is too short can never reach the alert threshold: it says so and gets
// weight 0 (see `reaches`).
import { Prng } from './prng.ts';

/** How many training scores a model keeps (a uniform sample beyond this). */
export const CALIBRATION_MAX = 50_000;

export interface SavedCalibration {
  /** Training scores, ascending (a uniform sample of at most CALIBRATION_MAX). */
  readonly sorted: number[];
  /** How many training rows the sample stands for. */
  readonly trainingRows: number;
}

export class Calibration {
  readonly sorted: Float64Array;
  readonly trainingRows: number;

  constructor(sorted: Float64Array, trainingRows: number) {
    this.sorted = sorted;
    this.trainingRows = trainingRows;
  }

  static fromScores(scores: ArrayLike<number>, seed = 7): Calibration {
    let kept: Float64Array;
    if (scores.length <= CALIBRATION_MAX) kept = Float64Array.from(scores);
    else {
      const idx = new Prng(seed).sample(scores.length, CALIBRATION_MAX);
      kept = new Float64Array(idx.length);
      for (let i = 0; i < idx.length; i++) kept[i] = scores[idx[i]!]!;
    }
    kept.sort();
    return new Calibration(kept, scores.length);
  }

  /** Tail probability of a score: the share of training scores at or above it, smoothed. */
  tail(score: number): number {
    const n = this.sorted.length;
    // First index with sorted[i] >= score (binary search).
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < score) lo = mid + 1;
      else hi = mid;
    }
    return (n - lo + 1) / (n + 1);
  }

  calibrated(score: number): number {
    return calibrate(this.tail(score));
  }

  /** The highest calibrated score this history can produce (reached by a score above every training score). */
  get ceiling(): number {
    return calibrate(1 / (this.sorted.length + 1));
  }

  /** The training score at quantile q (0..1). */
  quantile(q: number): number {
    const n = this.sorted.length;
    if (n === 0) return NaN;
    return this.sorted[Math.min(n - 1, Math.max(0, Math.floor(q * n)))]!;
  }

  save(): SavedCalibration {
    return { sorted: [...this.sorted], trainingRows: this.trainingRows };
  }

  static load(s: SavedCalibration): Calibration {
    return new Calibration(Float64Array.from(s.sorted), s.trainingRows);
  }
}

export function calibrate(p: number): number {
  return Math.min(1, Math.max(0, -Math.log10(p) / 4));
}

/** Training rows needed before a model can reach `threshold` at all: p must get down to 10^(-4 threshold). */
export function rowsNeeded(threshold: number): number {
  return Math.ceil(Math.pow(10, 4 * threshold)) - 1;
}
