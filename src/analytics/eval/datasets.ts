// Seeded data sets for comparing our isolation forest with scikit-learn's: each has a training table
// and a labelled test table (label 1 = injected outlier). Three shapes, from easy to realistic:
// separated clusters in 2-D, correlated features in 10-D whose outliers break the correlation, and
// process-like features (heavy tails, ties, counts that are mostly zero).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Prng } from '../models/prng.ts';

export interface LabelledSet {
  readonly name: string;
  readonly columns: readonly string[];
  readonly train: number[][];
  readonly test: number[][];
  readonly labels: number[];
}

function build(name: string, columns: string[], seed: number, nTrain: number, nTest: number, outlierShare: number,
  inlier: (r: Prng) => number[], outlier: (r: Prng) => number[]): LabelledSet {
  const r = new Prng(seed);
  const train: number[][] = [];
  for (let i = 0; i < nTrain; i++) train.push(r.next() < outlierShare / 4 ? outlier(r) : inlier(r));
  const test: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < nTest; i++) {
    const bad = r.next() < outlierShare;
    test.push(bad ? outlier(r) : inlier(r));
    labels.push(bad ? 1 : 0);
  }
  return { name, columns, train, test, labels };
}

export function blobs2d(seed = 11, nTrain = 2000, nTest = 2000): LabelledSet {
  const centres = [[0, 0], [4, 4], [-3, 5]];
  return build('blobs-2d', ['x', 'y'], seed, nTrain, nTest, 0.05,
    (r) => { const c = r.pick(centres); return [c[0]! + r.normal() * 0.8, c[1]! + r.normal() * 0.8]; },
    (r) => [r.next() * 16 - 8, r.next() * 16 - 6]);
}

export function correlated10d(seed = 12, nTrain = 3000, nTest = 2000): LabelledSet {
  const cols = Array.from({ length: 10 }, (_, i) => `f${i}`);
  const load = Array.from({ length: 10 }, (_, i) => 0.5 + i / 20);
  return build('correlated-10d', cols, seed, nTrain, nTest, 0.05,
    (r) => { const z1 = r.normal(); const z2 = r.normal(); return load.map((l, i) => l * (i % 2 ? z1 : z2) * 2 + r.normal() * 0.5); },
    (r) => load.map(() => r.normal() * 2.2));
}

export function processLike(seed = 13, nTrain = 5000, nTest = 3000): LabelledSet {
  const cols = ['cmdline_length', 'cmdline_entropy', 'arg_base64', 'arg_urls', 'arg_ip_literals', 'child_spawn_rate', 'network_fan_out', 'location_code'];
  return build('process-like', cols, seed, nTrain, nTest, 0.03,
    (r) => [
      Math.round(Math.exp(3.5 + r.normal() * 0.7)), 3.6 + r.normal() * 0.35, r.next() < 0.01 ? 1 : 0, r.next() < 0.05 ? 1 : 0,
      r.next() < 0.03 ? 1 : 0, Math.floor(-Math.log(1 - r.next()) * 2) / 5, r.next() < 0.2 ? Math.floor(r.next() * 4) : 0,
      r.pick([0, 0, 0, 0, 1, 1, 2, 3]),
    ],
    (r) => [
      Math.round(Math.exp(4.5 + r.normal() * 0.8)), 4.6 + r.normal() * 0.5, r.next() < 0.6 ? 1 + r.int(2) : 0, r.next() < 0.5 ? 1 : 0,
      r.next() < 0.5 ? 1 : 0, Math.floor(-Math.log(1 - r.next()) * 6) / 5, Math.floor(r.next() * 30),
      r.pick([0, 2, 3, 4, 4, 5]),
    ]);
}

export const COMPARISON_SETS = [blobs2d, correlated10d, processLike] as const;

export function toCsv(columns: readonly string[], rows: readonly (readonly number[])[]): string {
  return [columns.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** Writes train.csv and test.csv for a set into dir; returns their paths. */
export function writeSet(set: LabelledSet, dir: string): { train: string; test: string } {
  const train = join(dir, `${set.name}-train.csv`);
  const test = join(dir, `${set.name}-test.csv`);
  writeFileSync(train, toCsv(set.columns, set.train));
  writeFileSync(test, toCsv(set.columns, set.test));
  return { train, test };
}
