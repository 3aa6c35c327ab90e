// `daemoneye rules test` as part of `npm test`: every built-in rule loads, is well-formed, and
// produces exactly the findings its fixtures expect, run through the same sandbox as the agent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runFixtures } from '../src/detect/sql/fixture-runner.ts';
import { loadRules } from '../src/detect/sql/load-rules.ts';
import { cli } from './cli-helpers.ts';

const { rules, problems } = loadRules({ builtin: true, dirs: [] });

test('every built-in rule loads and validates', () => {
  assert.deepEqual(problems.map((p) => p.message), []);
});

test('at least 25 built-in Linux rules, each with ATT&CK ids, a firing fixture and a benign one', () => {
  assert.ok(rules.length >= 25, `${rules.length} rules`);
  for (const r of rules) {
    assert.ok(r.attack.length > 0, r.id);
    assert.ok(r.fixtures.some((f) => f.expect.length > 0), `${r.id} has a fixture that fires`);
    assert.ok(r.fixtures.some((f) => f.expect.length === 0), `${r.id} has a fixture that must not fire`);
    assert.ok(r.rationale.trim().length > 0, `${r.id} explains itself`);
  }
});

describe('built-in rule fixtures', async () => {
  const results = await runFixtures(rules, { timeoutMs: 10_000 });
  for (const r of results) {
    test(`${r.ruleId}: ${r.fixture}`, () => {
      assert.ok(r.passed, `${r.message}\nrows: ${JSON.stringify(r.rows)}`);
    });
  }
});

test('`daemoneye rules test` exits 0 and `rules list` shows every rule', () => {
  const t = cli(['rules', 'test']);
  assert.equal(t.status, 0, t.stdout + t.stderr);
  assert.match(t.stdout, new RegExp(`across ${rules.length} rules; 0 rule files rejected`));
  const list = cli(['--data-dir', '/nonexistent-dir-for-list', 'rules', 'list', '--format', 'json']);
  assert.equal((JSON.parse(list.stdout) as unknown[]).length, rules.length);
});
