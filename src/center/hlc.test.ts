import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareHlc, formatHlc, parseHlc, tick } from './hlc.ts';

test('stamps order by wall time, then counter, then node, as strings', () => {
  const a = formatHlc({ wall: 999, counter: 5, node: 'b' });
  const b = formatHlc({ wall: 1000, counter: 0, node: 'a' });
  assert.ok(compareHlc(a, b) < 0);
  assert.deepEqual(parseHlc(b), { wall: 1000, counter: 0, node: 'a' });
});

test('a tick is above the previous stamp even when the wall clock stands still or goes back', () => {
  const first = tick(null, 5000, 'n');
  const same = tick(first, 5000, 'n');
  const back = tick(same, 1000, 'n');
  assert.ok(compareHlc(first, same) < 0 && compareHlc(same, back) < 0);
  assert.equal(parseHlc(back).wall, 5000);
  assert.equal(parseHlc(tick(back, 9000, 'n')).counter, 0);
  assert.throws(() => parseHlc('yesterday'));
});
