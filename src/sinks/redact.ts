// Secrets must never reach an error message, a log line or a serialised sink. Sinks keep them in
// private fields; this is the second line: whatever text a receiver or a library hands back is
// scrubbed of every secret (and of the base64 forms that Basic auth and SMTP AUTH put on the wire).
import { SinkDeliveryError } from './sink-error.ts';

const REDACTED = '[redacted]';

/** Shorter values are not searched for: "401" in "HTTP 401" is not a leak worth mangling. */
const MIN_SECRET = 6;

function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
}

/** `text` with every occurrence of every secret replaced by [redacted]. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < MIN_SECRET) continue;
    for (const f of forms(s)) out = out.split(f).join(REDACTED);
  }
  return out;
}

/** What a receiver said, fit for one line of an error message: printable, short. */
export function clip(text: string, max = 200): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** scheme://host:port only: webhook URLs often carry a token in their path or query. */
export function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * The error a sink throws: a SinkDeliveryError whose message holds no secret. Anything else that
 * escaped (a library's error) becomes a retryable SinkDeliveryError, its message scrubbed too;
 * its cause is kept only when it was ours (it may hold request details).
 */
export function deliveryError(e: unknown, secrets: readonly string[], what: string): SinkDeliveryError {
  if (e instanceof SinkDeliveryError) {
    const message = redact(e.message, secrets);
    if (message === e.message) return e;
    return new SinkDeliveryError(message, { retryable: e.retryable, ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }) });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new SinkDeliveryError(`${what}: ${redact(clip(message, 500), secrets)}`, { retryable: true });
}
