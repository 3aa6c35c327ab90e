// One breaker per sink: after `threshold` consecutive failures it opens and no delivery is tried
// for `openMs`; then one probe (half-open) decides between closing and opening again. A dead
// receiver then costs one attempt per `openMs` instead of one per alert.

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  readonly threshold: number;
  readonly openMs: number;
}

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  #state: CircuitState = 'closed';
  #consecutiveFailures = 0;
  #openedAt = 0;

  constructor(options: BreakerOptions) {
    this.#options = options;
  }

  get state(): CircuitState {
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** Whether a delivery may be tried now; moves an expired open breaker to half-open (one probe). */
  allow(now: number): boolean {
    if (this.#state === 'open' && now - this.#openedAt >= this.#options.openMs) this.#state = 'half_open';
    return this.#state !== 'open';
  }

  /** While half-open, only a single alert is sent as the probe. */
  get probing(): boolean {
    return this.#state === 'half_open';
  }

  onSuccess(): void {
    this.#state = 'closed';
    this.#consecutiveFailures = 0;
  }

  onFailure(now: number): void {
    this.#consecutiveFailures++;
    if (this.#state === 'half_open' || this.#consecutiveFailures >= this.#options.threshold) {
      this.#state = 'open';
      this.#openedAt = now;
    }
  }

  /** Milliseconds until an open breaker lets a probe through (0 when not open). */
  remainingOpenMs(now: number): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.#options.openMs - now) : 0;
  }
}
