// Detection on simulated weeks (issue 7 "Evidence"): one host of each role (web server, database,
// developer workstation, CI runner), 14 days of training and 7 days with six injected attacks each.
// The seed is fixed, so the figures are reproducible; the test asserts sane floors and ceilings, and
// bench/analytics.ts prints the full figures over more hosts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateDetection } from '../src/analytics/sim/evaluate-detection.ts';
import { simulateHost } from '../src/analytics/sim/simulate-host.ts';

test('the simulator is seeded: same seed, same processes', () => {
  const a = simulateHost({ role: 'ci', seed: 5, startMs: Date.UTC(2026, 10, 2), days: 1, attacks: [{ kind: 'crypto_miner', day: 0 }] });
  const b = simulateHost({ role: 'ci', seed: 5, startMs: Date.UTC(2026, 10, 2), days: 1, attacks: [{ kind: 'crypto_miner', day: 0 }] });
  assert.deepEqual(a, b);
  assert.ok(a.length > 3000, `a CI runner starts thousands of processes a day (${a.length})`);
  assert.ok(a.some((o) => o.attack?.kind === 'crypto_miner' && o.obs.source === 'scan' && (o.obs.cpu_usage ?? 0) > 100));
});

test('injected attacks are found at threshold 0.8 with few false alerts, and alerts explain themselves', () => {
  const f = evaluateDetection({ seed: 1, hostsPerRole: 1, trainDays: 14, testDays: 7, threshold: 0.8 });
  console.log(`recall ${f.recall.toFixed(3)} (${f.detected}/${f.attacks}), precision ${f.precision.toFixed(3)}, false alerts per host per day ${f.falseAlertsPerHostDay.toFixed(2)}`);
  assert.equal(f.attacks, 24);
  assert.ok(f.recall >= 0.9, `recall ${f.recall}`);
  assert.ok(f.falseAlertsPerHostDay < 1, `false alerts per host per day ${f.falseAlertsPerHostDay}`);
  for (const kind of ['web_shell', 'reverse_shell', 'crypto_miner', 'download_exec', 'cron_persistence', 'credential_access']) {
    assert.ok((f.byKind[kind]?.detected ?? 0) >= 3, `${kind}: ${JSON.stringify(f.byKind[kind])}`);
  }
  // Every detected attack names what was unusual.
  assert.ok(f.examples.length >= 4);
  for (const e of f.examples) assert.match(e.explanation, /seen \d+ times in 14 days on this host|vs p99|vs median/, e.explanation);
});
