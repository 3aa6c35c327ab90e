import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DetectionRun, RuleOutcome } from '../detect/detector.ts';
import type { RuleMeta } from '../detect/sql/rule.ts';
import { openMemoryStore } from '../store/open-store.ts';
import { AlertRecorder } from './alert-recorder.ts';

const stateRule: RuleMeta = { id: 'T-STATE-1', name: 'state rule', version: 1, severity: 'high', attack: ['T1070.004'], tags: ['t'], kind: 'state' };
const eventRule: RuleMeta = { ...stateRule, id: 'T-EVENT-1', name: 'event rule', kind: 'event' };

const outcome = (rule: RuleMeta, status: RuleOutcome['status'] = 'ok', truncated = false): RuleOutcome => ({
  ruleId: rule.id, status, durationMs: 1, rows: 0, truncated, error: status === 'ok' ? null : 'boom', cursor: { lifecycle: 7, exec: 3, exit: 4, connection: 5, security: 6, flow: 8, dns: 9, tls: 10, http: 11 },
  clearsWhenAbsent: rule.kind === 'state',
});
const run = (rule: RuleMeta, rows: Record<string, unknown>[], status: RuleOutcome['status'] = 'ok', truncated = false): DetectionRun => ({
  findings: rows.map((row) => ({ rule, row })), outcomes: [outcome(rule, status, truncated)],
});

function setup() {
  const db = openMemoryStore();
  const rec = new AlertRecorder(db, 'host-a');
  rec.syncRules([{ ...stateRule, description: 'd', enabled: true, rationale: '', sql: 'SELECT 1', fixtures: [], source: 's' },
    { ...eventRule, description: 'd', enabled: true, rationale: '', sql: 'SELECT 1', fixtures: [], source: 's' }], () => 'x');
  return { db, rec };
}

test('a finding raises one alert with the rule metadata and evidence; repeats only bump occurrences', () => {
  const { db, rec } = setup();
  const row = { pid: 42, start_time: 1000, name: 'payload', executable_path: '/tmp/payload', command_line: '/tmp/payload -x', reason: 'deleted /tmp/payload' };
  const first = rec.record(run(stateRule, [row]), 1, 5000);
  assert.equal(first.length, 1);
  const a = first[0]!;
  assert.equal(a.rule_id, 'T-STATE-1');
  assert.equal(a.severity, 'high');
  assert.deepEqual(a.attack_ids, ['T1070.004']);
  assert.equal(a.summary, 'deleted /tmp/payload');
  assert.equal(a.pid, 42);
  assert.equal(a.host, 'host-a');
  assert.deepEqual(a.evidence, row);
  assert.equal(a.first_seen, new Date(5000).toISOString());
  assert.equal(rec.record(run(stateRule, [row]), 2, 6000).length, 0, 'no second alert for the same key');
  const stored = db.prepare('SELECT occurrences, last_seen, cleared_at FROM alerts').all();
  assert.deepEqual(stored, [{ occurrences: 2, last_seen: 6000, cleared_at: null }]);
});

test('a state alert clears when a clean run no longer returns it, and can be raised again', () => {
  const { db, rec } = setup();
  const row = { pid: 42, start_time: 1000 };
  rec.record(run(stateRule, [row]), 1, 1);
  rec.record(run(stateRule, [], 'error'), 2, 2);
  assert.equal((db.prepare('SELECT cleared_at FROM alerts').get() as { cleared_at: number | null }).cleared_at, null, 'a failed run proves nothing');
  rec.record(run(stateRule, [], 'ok', true), 3, 3);
  assert.equal((db.prepare('SELECT cleared_at FROM alerts').get() as { cleared_at: number | null }).cleared_at, null, 'a truncated run proves nothing');
  rec.record(run(stateRule, []), 4, 4);
  assert.equal((db.prepare('SELECT cleared_at FROM alerts').get() as { cleared_at: number | null }).cleared_at, 4);
  assert.equal(rec.record(run(stateRule, [row]), 5, 5).length, 1, 'raised again after clearing');
});

test('event alerts never clear; a recycled pid (new start time) is a new alert', () => {
  const { db, rec } = setup();
  rec.record(run(eventRule, [{ pid: 7, start_time: 1 }]), 1, 1);
  rec.record(run(eventRule, []), 2, 2);
  assert.equal((db.prepare('SELECT count(*) AS n FROM alerts WHERE cleared_at IS NULL').get() as { n: number }).n, 1);
  assert.equal(rec.record(run(eventRule, [{ pid: 7, start_time: 2 }]), 3, 3).length, 1);
});

test('rule outcomes and cursors are recorded', () => {
  const { rec } = setup();
  rec.record(run(stateRule, []), 1, 1);
  assert.deepEqual(rec.cursors().get('T-STATE-1'), { lifecycle: 7, exec: 3, exit: 4, connection: 5, security: 6, flow: 8, dns: 9, tls: 10, http: 11 });
  assert.deepEqual(rec.cursors().get('T-EVENT-1'), { lifecycle: 0, exec: 0, exit: 0, connection: 0, security: 0, flow: 0, dns: 0, tls: 0, http: 0 });
});

test('a row without pid is keyed by its content, and a rule can give its own dedup_key', () => {
  const { rec } = setup();
  assert.equal(rec.record(run(stateRule, [{ name: 'a', n: 2 }, { name: 'b', n: 2 }]), 1, 1).length, 2);
  assert.equal(rec.record(run(eventRule, [{ dedup_key: 'k', pid: 1 }, { dedup_key: 'k', pid: 2 }]), 1, 1).length, 1);
});
