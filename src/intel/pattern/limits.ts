// Safety bounds for patterns from feeds: a hostile indicator must be refused with a clear error, never
// stall or crash the agent. Generous for real indicators (the largest seen in public feeds are a few
// KiB with sets of a few hundred hashes).
export const PATTERN_LIMITS = {
  /** Characters in one pattern. */
  maxLength: 256 * 1024,
  /** Nesting of parentheses and brackets (the parser recurses on them). */
  maxDepth: 64,
  /** Elements in one IN (...) set. */
  maxSetSize: 10_000,
  /** Comparisons in one pattern (AND/OR chains are walked recursively: this bounds the depth). */
  maxComparisons: 1_000,
  /** Observation expressions ([...]) in one pattern. */
  maxObservations: 200,
  /** REPEATS n TIMES. */
  maxRepeats: 1_000,
  /** Characters in one MATCHES regex (after unescaping). */
  maxRegexLength: 8 * 1024,
  /** Object path steps. */
  maxPathSteps: 64,
  /** WITHIN n SECONDS: ten years. */
  maxWithinSeconds: 10 * 366 * 24 * 3600,
} as const;
