// The wire form of a store row: long strings clipped with a marker, blobs as hex, the row id and
// time carried; a row without a usable time gets the send time (so it is not taken as expired).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FIELD_CHARS, toWire } from './event-push.ts';

test('toWire clips long strings, hex-encodes blobs, keeps numbers and nulls', () => {
  const long = 'x'.repeat(MAX_FIELD_CHARS + 100);
  const e = toWire('process_exec', { id: 7, time: 1_700_000_000_000, argv: long, raw: Buffer.from([0xde, 0xad]), cwd: null, pid: 42 }, 1);
  assert.equal(e.kind, 'process_exec');
  assert.equal(e.source_id, 7);
  assert.equal(e.time, 1_700_000_000_000);
  assert.equal(String(e.body.argv).slice(0, MAX_FIELD_CHARS), long.slice(0, MAX_FIELD_CHARS));
  assert.match(String(e.body.argv), /…\[clipped 100 chars\]$/);
  assert.equal(e.body.raw, 'dead');
  assert.equal(e.body.cwd, null);
  assert.equal(e.body.pid, 42);
  assert.equal(toWire('x', { id: 1, argv: 'short' }, 1).body.argv, 'short');
});

test('a row without a valid time is stamped with the send time', () => {
  assert.equal(toWire('dns_queries', { id: 1 }, 123).time, 123);
  assert.equal(toWire('dns_queries', { id: 1, time: 'garbage' }, 123).time, 123);
  assert.equal(toWire('dns_queries', { id: 1, time: -5 }, 123).time, 123);
});
