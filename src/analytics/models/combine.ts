// Combining calibrated model scores into one. Decision (docs/analytics.md): Fisher's method across
// model families (truncated at p = 0.01) with a Tippett guard, the smallest p within a family.
// - p values are combined rather than scores averaged: a weighted mean would average a web shell's
//   1.0 rarity down with its unremarkable CPU. Fisher: X = -2 Σ ln p, chi-squared with 2k degrees of freedom.
// - Fisher assumes independent p values. Models of one family read the same signal (a new binary is
//   a new path, a new parent → child pair and a new user × executable at once), so multiplying them
//   would count one fact three times; within a family we take the smallest p. We do not multiply it
//   by the family size (Bonferroni): that corrects for independent tests, and these are nested
//   (a never-seen path implies a never-seen pair), so it would only throw away resolution. The
//   false-alert rate this gives is measured, not assumed (bench/analytics.ts).
// - Fisher dilutes a lone strong signal: a never-seen parent → child pair (p = 7e-5) next to an
//   isolation forest with nothing to say (p = 1) combines to 7e-4, below the threshold. So the
//   combined p is the smaller of Fisher's p and Tippett's (the smallest family p times the number of
//   families), doubled: a Bonferroni correction for taking the better of the two tests, which keeps
//   the result a valid p value. Several moderate signals are found by Fisher, one strong by Tippett.
//   Supporting families (SUPPORTING: the isolation forest, the location class) take part in Fisher
//   but not in the Tippett guard, whose Bonferroni factor counts only the families it looks at.
// - Models with weight 0 (too little history to reach the threshold) are left out entirely.
import { calibrate } from './calibration.ts';

/**
 * Family p values above this count as 1 in Fisher's sum: on a busy host "a bit rarer than usual"
 * (p = 0.02) next to "a bit odder than usual" (p = 0.001) is everyday jitter, not two signals. This
 * only makes the test more conservative (each p is replaced by one at least as large).
 */
export const FISHER_TRUNCATION = 0.01;

/**
 * Families that support a finding but do not make one alone (they join Fisher, not the Tippett
 * guard): the isolation forest, whose top tail on a busy host is ordinary jitter, and the location
 * class, because running from /tmp is suspicious only next to something else being new.
 */
export const SUPPORTING: ReadonlySet<string> = new Set(['shape', 'location']);

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
  // A handful of models: parallel arrays beat a Map per row (this runs 10,000 times a scoring pass).
  const families: string[] = [];
  const familyP: number[] = [];
  for (const s of scores) {
    if (s.weight <= 0) continue;
    const i = families.indexOf(s.family);
    if (i < 0) {
      families.push(s.family);
      familyP.push(Math.min(1, s.p));
    } else if (s.p < familyP[i]!) familyP[i] = s.p;
  }
  if (familyP.length === 0) return { p: 1, calibrated: 0, families: 0 };
  // Tippett over the families that may alert alone; Bonferroni over exactly those.
  let lone = 1;
  let loneCount = 0;
  for (let i = 0; i < familyP.length; i++) {
    if (SUPPORTING.has(families[i]!)) continue;
    loneCount++;
    if (familyP[i]! < lone) lone = familyP[i]!;
  }
  const tippett = Math.min(1, lone * Math.max(1, loneCount));
  const truncated = familyP.map((q) => (q <= FISHER_TRUNCATION ? q : 1));
  const p = familyP.length === 1 ? familyP[0]! : Math.min(1, 2 * Math.min(fisher(truncated), tippett));
  return { p, calibrated: calibrate(p), families: familyP.length };
}
