// What an authored indicator set body becomes in the TAXII `indicators` collection, including
// bodies an analyst got wrong, and which role may read or write which collection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indicatorEntries, permits } from './taxii.ts';

const col = (id: string) => ({ id, apiRoot: 'daemoneye', title: id, description: null, canRead: true, canWrite: true });

test('indicator set bodies: a list, {indicators}, a STIX bundle; bad entries are named, not published', () => {
  assert.deepEqual(indicatorEntries(JSON.stringify(["[ipv4-addr:value = '1.2.3.4']"])).entries, [{ pattern: "[ipv4-addr:value = '1.2.3.4']" }]);
  assert.equal(indicatorEntries(JSON.stringify({ indicators: [{ pattern: '[x:y = 1]', name: 'n' }] })).entries[0]!.name, 'n');
  const bundle = { type: 'bundle', id: 'bundle--x', objects: [{ type: 'indicator', pattern: '[a:b = 1]' }, { type: 'malware', name: 'm' }] };
  assert.deepEqual(indicatorEntries(JSON.stringify(bundle)).entries.map((e) => e.pattern), ['[a:b = 1]']);
  const bad = indicatorEntries(JSON.stringify({ indicators: [null, 7, [], { pattern: '' }, { pattern: 'x'.repeat(70_000) }, { pattern: 3 }, '[ok:ok = 1]'] }));
  assert.deepEqual(bad.entries.map((e) => e.pattern), ['[ok:ok = 1]']);
  assert.equal(bad.rejected.length, 6);
  for (const body of ['{"indicators": 5}', '"text"', 'null', '{}', 'not json', '{"type":"bundle","objects":"x"}']) {
    const r = indicatorEntries(body);
    assert.deepEqual(r.entries, [], body);
    assert.equal(r.rejected.length, 1, body);
  }
});

test('roles: agents and centers read indicators and write sightings; analysts read both; nobody writes indicators', () => {
  assert.ok(permits('agent:a1', 'read', col('indicators')));
  assert.ok(!permits('agent:a1', 'write', col('indicators')));
  assert.ok(!permits('analyst:x', 'write', col('indicators')));
  assert.ok(permits('agent:a1', 'write', col('sightings')));
  assert.ok(permits('center:r1', 'write', col('sightings')));
  assert.ok(!permits('agent:a1', 'read', col('sightings')));
  assert.ok(permits('analyst:x', 'read', col('sightings')));
  assert.ok(!permits('agent:a1', 'read', col('other')), 'a collection without a rule is closed');
});
