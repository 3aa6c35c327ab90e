// Per-sink rate limit: `perMinute` alerts, refilled continuously, with a burst of the same size.
export class TokenBucket {
  readonly #capacity: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  constructor(perMinute: number, now: number) {
    this.#capacity = Math.max(1, perMinute);
    this.#perMs = perMinute / 60_000;
    this.#tokens = this.#capacity;
    this.#at = now;
  }

  /** Whole tokens available now. */
  available(now: number): number {
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    return Math.floor(this.#tokens);
  }

  take(n: number, now: number): void {
    this.available(now);
    this.#tokens = Math.max(0, this.#tokens - n);
  }

  /** Milliseconds until one token is available. */
  waitMs(now: number): number {
    this.available(now);
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs);
  }
}
