import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStixMicros, normalizeStixTime, parseStixTimeMicros, parseStixTimeMs } from './stix-time.ts';

test('valid STIX timestamps parse to microseconds, any fraction precision', () => {
  assert.equal(parseStixTimeMs('2026-11-28T20:41:43Z'), Date.parse('2026-11-28T20:41:43Z'));
  assert.equal(parseStixTimeMicros('2026-11-28T20:41:43.5Z'), Date.parse('2026-11-28T20:41:43Z') * 1000 + 500_000);
  assert.equal(parseStixTimeMicros('2026-11-28T20:41:43.123456789Z'), Date.parse('2026-11-28T20:41:43Z') * 1000 + 123_456);
  assert.equal(parseStixTimeMs('2024-02-29T00:00:00Z'), Date.parse('2024-02-29T00:00:00Z'));
});

test('invalid and out-of-range timestamps are null', () => {
  for (const s of ['99999-01-01T00:00:00Z', '+099999-01-01T00:00:00Z', '2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00', '2026-01-01T00:00:00+02:00', '2026-01-01', '1969-12-31T23:59:59Z', '', 'x'.repeat(1000), 12, null, undefined]) {
    assert.equal(parseStixTimeMicros(s), null, String(s));
  }
});

test('the fixed-width form sorts like the times it names', () => {
  const times = ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.5Z', '2026-01-01T00:00:00.05Z', '2025-12-31T23:59:59.999999Z'];
  const norm = times.map((t) => normalizeStixTime(t)!);
  assert.deepEqual([...norm].sort(), [...times].sort((a, b) => parseStixTimeMicros(a)! - parseStixTimeMicros(b)!).map((t) => normalizeStixTime(t)));
  assert.equal(formatStixMicros(parseStixTimeMicros('2026-11-28T20:41:43.000001Z')!), '2026-11-28T20:41:43.000001Z');
});
