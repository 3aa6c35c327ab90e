// Community ID v1 against the spec's published vector (community-id-spec README, also in Suricata's
// and Zeek's docs): TCP 128.232.110.120:34855 <-> 66.35.250.204:80, seed 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressWords, communityId } from './community-id.ts';

test('the published Community ID vector, in both directions', () => {
  const a = addressWords('128.232.110.120'), b = addressWords('66.35.250.204');
  assert.equal(communityId(4, 6, a, 34855, b, 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  assert.equal(communityId(4, 6, b, 80, a, 34855), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
});

test('IPv6 text parses to the decoder\'s words; protocols without ports get none', () => {
  assert.deepEqual(addressWords('2001:db8::1'), [0x20010db8, 0, 0, 1]);
  assert.deepEqual(addressWords('::1'), [0, 0, 0, 1]);
  assert.equal(communityId(4, 1, addressWords('10.0.0.1'), 0, addressWords('10.0.0.2'), 0), null);
});
