import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRetryableStatus, parseRetryAfter } from './retry-after.ts';

test('Retry-After: delay-seconds and HTTP-dates', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Sun, 01 Mar 2026 10:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now), 0, 'a date in the past: now');
  assert.equal(parseRetryAfter(['120', '5'], now), 120_000);
  for (const bad of [undefined, '', '-1', '1.5', 'soon', '12abc']) assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
});

test('retryable statuses: 408, 425, 429, 5xx', () => {
  assert.deepEqual([400, 401, 403, 404, 408, 409, 413, 425, 429, 500, 502, 503, 504].filter(isRetryableStatus), [408, 425, 429, 500, 502, 503, 504]);
});
