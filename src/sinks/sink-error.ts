// How a sink says a delivery failed, so the dispatcher can decide: retry later (with the receiver's
// Retry-After if it gave one) or give up now (a permanent refusal such as HTTP 400 or 401 would
// fail the same way forever). Messages must never contain secrets (tokens, passwords, HMAC keys).
import { DaemonEyeError } from '../errors/catalogue.ts';

export class SinkDeliveryError extends DaemonEyeError {
  readonly retryable: boolean;
  /** Milliseconds the receiver asked us to wait (HTTP Retry-After), if it did. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number; cause?: unknown }) {
    super('DE_SINK_DELIVERY', message, { cause: options.cause });
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}
