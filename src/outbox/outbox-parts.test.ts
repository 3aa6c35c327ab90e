import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../alerts/alert.ts';
import { retryDelayMs } from './backoff.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { fingerprint, foldDuplicates } from './fold-duplicates.ts';
import { TokenBucket } from './token-bucket.ts';

test('full-jitter backoff stays under the exponential ceiling and the cap, and honours Retry-After', () => {
  const policy = { baseMs: 1000, capMs: 60_000 };
  assert.equal(retryDelayMs(1, policy, undefined, () => 0.999999), 999);
  assert.equal(retryDelayMs(3, policy, undefined, () => 0.5), 2000);
  assert.equal(retryDelayMs(40, policy, undefined, () => 0.999999), 59_999, 'capped');
  assert.equal(retryDelayMs(1, policy, undefined, () => 0), 0);
  assert.equal(retryDelayMs(1, policy, 7000, () => 0.5), 7000, 'Retry-After wins when longer');
  assert.equal(retryDelayMs(10, policy, 10, () => 0.5), 30_000, 'backoff wins when longer');
  let seed = 1;
  const delays = Array.from({ length: 1000 }, () => retryDelayMs(5, policy, undefined, () => ((seed = (seed * 48271) % 2147483647) / 2147483647)));
  assert.ok(delays.every((d) => d >= 0 && d < 16_000));
  assert.ok(new Set(delays).size > 900, 'jittered, not synchronised');
});

test('the breaker opens after the threshold, lets one probe through after the pause, and closes on success', () => {
  const b = new CircuitBreaker({ threshold: 3, openMs: 1000 });
  for (let i = 0; i < 2; i++) b.onFailure(0);
  assert.equal(b.state, 'closed');
  b.onFailure(10);
  assert.equal(b.state, 'open');
  assert.equal(b.allow(500), false);
  assert.equal(b.remainingOpenMs(500), 510);
  assert.equal(b.allow(1010), true);
  assert.equal(b.probing, true);
  b.onFailure(1010);
  assert.equal(b.state, 'open', 'a failed probe re-opens');
  assert.equal(b.allow(2010), true);
  b.onSuccess();
  assert.equal(b.state, 'closed');
  assert.equal(b.consecutiveFailures, 0);
});

test('the token bucket refills continuously up to its burst', () => {
  const t = new TokenBucket(60, 0); // one per second
  assert.equal(t.available(0), 60);
  t.take(60, 0);
  assert.equal(t.available(0), 0);
  assert.equal(t.waitMs(0), 1000);
  assert.equal(t.available(2500), 2);
  assert.equal(t.available(1_000_000), 60);
});

const alert = (id: number, pid: number, cmd = '/tmp/xmrig -o pool'): Alert => ({
  alert_id: id, alert_uuid: `u${id}`, rule_id: 'DE-LNX-0027', rule_name: 'miner', rule_version: 1, severity: 'high',
  attack_ids: ['T1496'], tags: [], host: 'h', summary: 's', dedup_key: `h|${pid}|1`, pid, process_name: 'xmrig',
  executable_path: '/tmp/xmrig', command_line: cmd, process_start: null, first_seen: '', last_seen: '', occurrences: 1,
  cleared_at: null, triage_status: 'open', scan_id: 1, evidence: {},
});

test('a storm of identical alerts folds into one carrying the count; different ones stay apart', () => {
  const storm = [...Array.from({ length: 50 }, (_, i) => alert(i + 1, 1000 + i)), alert(99, 5, '/tmp/xmrig --other')];
  const folded = foldDuplicates(storm);
  assert.equal(folded.length, 2);
  assert.equal(folded[0]!.alert.alert_id, 1);
  assert.equal(folded[0]!.alert.duplicates!.count, 49);
  assert.deepEqual(folded[0]!.alertIds.length, 50);
  assert.equal(folded[1]!.alert.duplicates, undefined);
  assert.notEqual(fingerprint(storm[0]!), fingerprint(storm[50]!));
});
