// The CLI surface a user meets first: --help that teaches, config check, doctor, usage errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli } from './cli-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'de-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const enterprise = fileURLToPath(new URL('../examples/enterprise.yaml', import.meta.url));

test('--help on every command explains it with examples', () => {
  const top = cli(['--help']);
  assert.equal(top.status, 0);
  for (const c of ['run', 'query', 'rules', 'alerts', 'audit', 'config', 'doctor']) assert.match(top.stdout, new RegExp(`\\n  ${c}\\b`));
  const commands = [['run'], ['query'], ['rules', 'list'], ['rules', 'validate'], ['rules', 'test'], ['alerts', 'list'],
    ['alerts', 'show'], ['alerts', 'ack'], ['alerts', 'deliveries'], ['alerts', 'redrive'], ['audit', 'verify'], ['audit', 'proof'],
    ['audit', 'consistency'], ['audit', 'checkpoint'], ['audit', 'export'], ['config', 'check'], ['doctor']];
  for (const c of commands) {
    const r = cli([...c, '--help']);
    assert.equal(r.status, 0, c.join(' '));
    assert.match(r.stdout, /Usage: daemoneye/, c.join(' '));
    assert.match(r.stdout, /Examples?:\n\s+daemoneye|sudo daemoneye|DAEMONEYE_/, `${c.join(' ')} has examples`);
  }
});

test('an unknown command or option is a usage error with exit 2', () => {
  assert.equal(cli(['frobnicate']).status, 2);
  const r = cli(['run', '--onse']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--onse'/);
  assert.match(cli(['run', '--once', '--fail-on', 'severe', '--data-dir', join(work, 'd')]).stderr, /DE_USAGE: --fail-on must be one of low, medium, high, critical/);
});

test('config check accepts the Enterprise block verbatim and says which features are not active yet', () => {
  const r = cli(['config', 'check', enterprise]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /valid/);
  // Every feature line says whether it runs here: `active`, or `not active in this build yet`
  // (once every Enterprise feature has landed, all of them are active).
  const features = r.stdout.split('\n').filter((l) => /\benterprise\.\w+\.\w+/.test(l));
  assert.ok(features.length > 0);
  for (const l of features) assert.match(l, /(\bactive|not active in this build yet)\s*$/, l);
  assert.match(r.stdout, /enterprise\.kernel_monitoring/);
});

test('config check names the key, file, line and accepted values of a mistake', () => {
  const file = join(work, 'bad.yaml');
  writeFileSync(file, 'agent:\n  scan_intervall: 10\nenterprise:\n  federation:\n    conflict_resolution: newest\n');
  const r = cli(['config', 'check', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /DE_CONFIG_INVALID/);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:2`));
  assert.match(r.stderr, /scan_interval/);
  assert.match(r.stderr, /:5/);
  assert.match(r.stderr, /primary_wins/);
  assert.match(r.stderr, /timestamp_wins/);
});

test('an environment override of an unknown key is refused with the nearest valid name', () => {
  const r = cli(['--data-dir', join(work, 'd'), 'rules', 'list'], { DAEMONEYE_AGENT__SCAN_INTERVALL: '5' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /DE_ENV_INVALID[\s\S]*DAEMONEYE_AGENT__SCAN_INTERVAL/);
});

test('doctor reports each check with a status and fix, and its exit code is the worst status', () => {
  const r = cli(['--data-dir', join(work, 'doc'), 'doctor', '--format', 'json']);
  const checks = JSON.parse(r.stdout) as { name: string; status: string; fix?: string }[];
  const names = checks.map((c) => c.name);
  for (const n of ['runtime', 'procfs', 'privileges', 'config', 'data_dir', 'store', 'rules', 'kernel']) assert.ok(names.includes(n), n);
  for (const c of checks) if (c.status !== 'ok') assert.ok(c.fix, `${c.name} has a fix hint`);
  const worst = checks.some((c) => c.status === 'fail') ? 2 : checks.some((c) => c.status === 'warn') ? 1 : 0;
  assert.equal(r.status, worst);
  // No store yet in a new data dir: a warning that says how to create it.
  const store = checks.find((c) => c.name === 'store')!;
  assert.equal(store.status, 'warn');
  assert.match(store.fix!, /daemoneye run --once/);
});

test('query on a data dir without a store says how to create one', () => {
  const r = cli(['--data-dir', join(work, 'empty'), 'query', 'SELECT 1']);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /DE_STORE_MISSING[\s\S]*hint: run `daemoneye run --once` first/);
});

test('rules validate reports each file with the reason', () => {
  const good = join(work, 'good.yaml');
  const bad = join(work, 'bad-rule.yaml');
  writeFileSync(good, `id: T-GOOD-1\nname: good\nversion: 1\ndescription: d\nseverity: low\nattack: [T1059]\nsql: SELECT pid FROM processes\n`);
  writeFileSync(bad, `id: T-BAD-1\nname: bad\nversion: 1\ndescription: d\nseverity: urgent\nattack: [T1059]\nsql: SELECT readfile('/etc/shadow')\n`);
  const r = cli(['rules', 'validate', good, bad]);
  assert.equal(r.status, 2);
  assert.match(r.stdout, /ok {4}.*good\.yaml {2}T-GOOD-1/);
  assert.match(r.stdout, /FAIL {2}.*bad-rule\.yaml\n.*DE_RULE_PARSE: .*bad-rule\.yaml:5: severity: /);
});
