import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsTaxii21, isTaxii21 } from './media-type.ts';
import { jsonDepth, parseBoundedJson } from './bounded-json.ts';
import { retryAfterMs } from './http-transport.ts';

test('the TAXII 2.1 media type, however spaced or cased; not 2.0, not plain JSON', () => {
  for (const ok of ['application/taxii+json;version=2.1', 'Application/TAXII+json; Version="2.1"', 'application/taxii+json ; version=2.1; charset=utf-8']) assert.equal(isTaxii21(ok), true, ok);
  for (const bad of ['application/taxii+json', 'application/taxii+json;version=2.0', 'application/json', 'application/vnd.oasis.taxii+json; version=2.0', '', undefined]) assert.equal(isTaxii21(bad), false, String(bad));
  assert.equal(acceptsTaxii21('application/json, application/taxii+json'), true);
  assert.equal(acceptsTaxii21('*/*'), false);
  assert.equal(acceptsTaxii21('application/taxii+json;version=2.0'), false);
});

test('JSON depth is measured outside strings, and deep nesting is refused before parsing', () => {
  assert.equal(jsonDepth('{"a":[1,{"b":"[[[["}]}'), 3);
  assert.equal(jsonDepth('"\\"[["'), 0);
  assert.throws(() => parseBoundedJson('['.repeat(65) + ']'.repeat(65), 64), /65 levels/);
  assert.deepEqual(parseBoundedJson('[[1]]', 64), [[1]]);
  assert.throws(() => parseBoundedJson('{', 64), /invalid JSON/);
});

test('Retry-After as seconds or an HTTP date', () => {
  assert.equal(retryAfterMs('120'), 120_000);
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', Date.parse('2026-01-01T00:00:00Z')), 60_000);
  assert.equal(retryAfterMs('soon'), null);
  assert.equal(retryAfterMs(undefined), null);
});
