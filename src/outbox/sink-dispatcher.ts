// Delivers one sink's outbox: batches of due alerts, duplicates folded, within the sink's rate
// limit and time budget; acknowledged rows are deleted, failures are rescheduled with backoff (or
// the receiver's Retry-After), and after max_attempts (or a permanent refusal) they become dead
// letters. The circuit breaker stops hammering a receiver that is down.
import type { Logger } from '../agent/logger.ts';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import { SinkDeliveryError } from '../sinks/sink-error.ts';
import type { Sink } from '../sinks/sink.ts';
import { DEFAULT_BACKOFF, retryDelayMs, type BackoffPolicy } from './backoff.ts';
import { CircuitBreaker, type BreakerOptions } from './circuit-breaker.ts';
import { foldDuplicates } from './fold-duplicates.ts';
import type { OutboxRow, OutboxStore } from './outbox-store.ts';
import { TokenBucket } from './token-bucket.ts';

export interface DispatchOptions {
  readonly batchSize: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly ratePerMinute: number;
  readonly backoff?: BackoffPolicy;
  readonly breaker?: BreakerOptions;
}

export interface DispatchResult {
  readonly delivered: number;
  readonly suppressed: number;
  readonly failed: number;
  readonly deadLettered: readonly number[];
  /** Milliseconds until this sink has something to do again (null: its outbox is empty). */
  readonly nextInMs: number | null;
}

export type DeadLetterHook = (sink: string, alertIds: readonly number[], error: string) => void;

const DEFAULT_BREAKER: BreakerOptions = { threshold: 5, openMs: 30_000 };

export class SinkDispatcher {
  readonly sink: Sink;
  readonly #store: OutboxStore;
  readonly #options: DispatchOptions;
  readonly #breaker: CircuitBreaker;
  readonly #bucket: TokenBucket;
  readonly #log: Logger;
  readonly #onDead: DeadLetterHook;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(sink: Sink, store: OutboxStore, options: DispatchOptions, log: Logger,
    hooks: { onDeadLetter?: DeadLetterHook; now?: () => number; random?: () => number } = {}) {
    this.sink = sink;
    this.#store = store;
    this.#options = options;
    this.#log = log;
    this.#now = hooks.now ?? Date.now;
    this.#random = hooks.random ?? Math.random;
    this.#onDead = hooks.onDeadLetter ?? (() => {});
    this.#breaker = new CircuitBreaker(options.breaker ?? DEFAULT_BREAKER);
    this.#bucket = new TokenBucket(options.ratePerMinute, this.#now());
  }

  get circuit(): string {
    return this.#breaker.state;
  }

  /** One batch, if anything is due and the breaker and rate limit allow. */
  async deliverDue(): Promise<DispatchResult> {
    const now = this.#now();
    const idle = (delivered = 0, suppressed = 0): DispatchResult => ({ delivered, suppressed, failed: 0, deadLettered: [], nextInMs: this.#nextInMs() });
    if (!this.#breaker.allow(now)) return idle();
    const allowed = this.#breaker.probing ? 1 : Math.min(this.#options.batchSize, this.#bucket.available(now));
    if (allowed < 1) return idle();
    const rows = this.#store.due(this.sink.name, now, allowed);
    if (rows.length === 0) return idle();
    const folded = foldDuplicates(rows.map((r) => r.alert));
    try {
      await this.#withTimeout(this.sink.deliver(folded.map((f) => f.alert)));
    } catch (e) {
      return this.#failed(rows, e);
    }
    const done = this.#now();
    this.#bucket.take(folded.length, done);
    this.#breaker.onSuccess();
    this.#store.acknowledge(this.sink.name, rows.map((r) => r.alert.alert_id));
    const suppressed = rows.length - folded.length;
    this.#store.recordSuccess(this.sink.name, this.sink.type, folded.length, suppressed, done);
    return idle(folded.length, suppressed);
  }

  #failed(rows: readonly OutboxRow[], e: unknown): DispatchResult {
    const now = this.#now();
    const retryable = e instanceof SinkDeliveryError ? e.retryable : true;
    const retryAfter = e instanceof SinkDeliveryError ? e.retryAfterMs : undefined;
    const message = isDaemonEyeError(e) ? e.message : `unexpected: ${(e as Error).message}`;
    this.#breaker.onFailure(now);
    const attempts = Math.max(...rows.map((r) => r.attempts)) + 1;
    const nextAt = now + retryDelayMs(attempts, this.#options.backoff ?? DEFAULT_BACKOFF, retryAfter, this.#random);
    const dead = this.#store.fail(this.sink.name, rows, message, nextAt, this.#options.maxAttempts, now, retryable);
    this.#store.recordFailure(this.sink.name, this.sink.type, {
      error: message, dead: dead.length, consecutive: this.#breaker.consecutiveFailures, circuit: this.#breaker.state, now,
    });
    this.#log.warn('sink delivery failed', { sink: this.sink.name, alerts: rows.length, retryable, circuit: this.#breaker.state, reason: message });
    if (dead.length > 0) {
      this.#log.error('alerts dead-lettered', { sink: this.sink.name, alerts: dead.length, reason: message });
      this.#onDead(this.sink.name, dead, message);
    }
    return { delivered: 0, suppressed: 0, failed: rows.length, deadLettered: dead, nextInMs: this.#nextInMs() };
  }

  #nextInMs(): number | null {
    const due = this.#store.nextDue(this.sink.name);
    if (due === null) return null;
    const now = this.#now();
    return Math.max(due - now, this.#breaker.remainingOpenMs(now), this.#bucket.waitMs(now), 0);
  }

  #withTimeout(p: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SinkDeliveryError(`no acknowledgement within ${this.#options.timeoutMs} ms`, { retryable: true })), this.#options.timeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
