// HTTP Retry-After (RFC 9110 section 10.2.3): either delay-seconds or an HTTP-date.
/** Milliseconds to wait, or undefined when the header is absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); Date.parse also reads the obsolete forms.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Statuses worth retrying: the receiver is busy, overloaded or timed out, not refusing. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
