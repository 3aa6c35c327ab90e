// Combining calibrated model scores into one. Decision (docs/analytics.md): Fisher's method across
// model families, the Bonferroni-adjusted minimum within a family.
// - Fisher (X = -2 Σ ln p, chi-squared with 2k degrees of freedom) lets one model that is sure carry
//   the score: a weighted mean would average a web shell's 1.0 rarity down with unremarkable CPU.
// - Fisher assumes independent p values. Models of one family read the same signal (a new binary is
//   a new path, a new parent → child pair and a new user × executable at once), so multiplying them
//   would count one fact three times; within a family we take the smallest p. We do not multiply it
//   by the family size (Bonferroni): that corrects for independent tests, and these are nested
//   (a never-seen path implies a never-seen pair), so it would only throw away resolution. The
//   false-alert rate this gives is measured, not assumed (bench/analytics.ts).
// - Models with weight 0 (too little history to reach the threshold) are left out entirely.
import { calibrate } from './calibration.ts';

export interface WeightedP {
  readonly family: string;
  readonly p: number;
  readonly weight: number;
}

/** Survival function of the chi-squared distribution with 2k degrees of freedom (closed form). */
export function chiSquaredSurvivalEvenDof(x: number, k: number): number {
  if (x <= 0) return 1;
  const half = x / 2;
  let term = 1;
  let sum = 1;
  for (let j = 1; j < k; j++) {
    term *= half / j;
    sum += term;
  }
  return Math.min(1, Math.exp(-half) * sum);
}

export function fisher(ps: readonly number[]): number {
  if (ps.length === 0) return 1;
  const x = -2 * ps.reduce((s, p) => s + Math.log(Math.max(p, 1e-300)), 0);
  return chiSquaredSurvivalEvenDof(x, ps.length);
}

/** The combined tail probability and calibrated score of one row. */
export function combine(scores: readonly WeightedP[]): { p: number; calibrated: number; families: number } {
  const byFamily = new Map<string, number[]>();
  for (const s of scores) {
    if (s.weight <= 0) continue;
    const list = byFamily.get(s.family) ?? [];
    list.push(s.p);
    byFamily.set(s.family, list);
  }
  const familyP = [...byFamily.values()].map((ps) => Math.min(1, ...ps));
  const p = fisher(familyP);
  return { p, calibrated: familyP.length === 0 ? 0 : calibrate(p), families: familyP.length };
}
