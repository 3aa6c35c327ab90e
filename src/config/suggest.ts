// "Did you mean": the nearest candidate by edit distance, so a typo'd key names its fix.

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`sacn` → `scan`). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  // Three rolling rows (two back, for transpositions) keep this O(|b|) in memory.
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate nearest to `word`. With `maxRatio`, only one close enough to be a plausible typo
 * (distance at most that share of the longer word, and at least 1 edit allowed).
 */
export function nearest(word: string, candidates: Iterable<string>, maxRatio = Infinity): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(w.length, best.length) * maxRatio));
  return bestDistance <= limit ? best : undefined;
}
