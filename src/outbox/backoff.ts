// Retry timing. "Full jitter" (AWS architecture blog, Brooker 2015): a random delay between 0 and
// the exponential cap spreads retries of many agents after an outage instead of synchronising them.
// A receiver's Retry-After wins when it asks for longer.

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 300_000 };

/** Delay before attempt number `attempts + 1`, after `attempts` failures (1-based). */
export function retryDelayMs(attempts: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempts - 1, 30));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}
