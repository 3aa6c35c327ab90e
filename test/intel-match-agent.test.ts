// The agent end to end: `daemoneye run --once` with enterprise.stix_taxii.enable_integration, an
// indicator in intel_indicators (as TAXII sync stores it) and a real process that matches it: the
// alert DE-INTEL is raised with the indicator in its evidence and a sighting is recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cli } from './cli-helpers.ts';

test('a running process matching an indicator raises a DE-INTEL alert and a sighting', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'de-intel-agent-'));
  // Baseline scan: processes already running are the baseline, not "new".
  const first = cli(['run', '--once', '--data-dir', dataDir]);
  assert.equal(first.status, 0, first.stderr);
  const marker = `stixprobe-${process.pid}`;
  const child = spawn('sleep', ['120'], { argv0: marker, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const db = new Database(join(dataDir, 'daemoneye.db'));
    db.prepare(`INSERT INTO intel_indicators (indicator_id, feed_id, modified, name, pattern, pattern_type, valid_from, labels,
      kill_chain_phases, confidence, object, added_at) VALUES (?, 'manual', '2026-11-28T00:00:00Z', 'probe process', ?, 'stix', 0, ?, ?, 90, '{}', ?)`)
      .run('indicator--11111111-2222-4333-8444-555555555555', `[process:command_line = '${marker} 120' AND process:image_ref.name = 'sleep']`,
        JSON.stringify(['malicious-activity']), JSON.stringify([{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }]), Date.now());
    db.close();
    const second = cli(['run', '--once', '--data-dir', dataDir], { DAEMONEYE_ENTERPRISE__STIX_TAXII__ENABLE_INTEGRATION: 'true' });
    assert.equal(second.status, 0, second.stderr);
    const check = new Database(join(dataDir, 'daemoneye.db'), { readonly: true });
    const alerts = check.prepare("SELECT severity, pid, evidence FROM alerts WHERE rule_id = 'DE-INTEL'").all() as { severity: string; pid: number; evidence: string }[];
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.pid, child.pid);
    assert.equal(alerts[0]!.severity, 'critical');
    const evidence = JSON.parse(alerts[0]!.evidence) as Record<string, unknown>;
    assert.equal(evidence['indicator_id'], 'indicator--11111111-2222-4333-8444-555555555555');
    assert.deepEqual(evidence['kill_chain_phases'], [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }]);
    const sightings = check.prepare('SELECT count, object FROM intel_sightings').all() as { count: number; object: string }[];
    assert.equal(sightings.length, 1);
    assert.equal((JSON.parse(sightings[0]!.object) as { sighting_of_ref: string }).sighting_of_ref, 'indicator--11111111-2222-4333-8444-555555555555');
    check.close();
  } finally {
    child.kill();
  }
});
