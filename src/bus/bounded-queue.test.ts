import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedQueue } from './bounded-queue.ts';

test('offer sheds and counts when full, never waits', () => {
  const q = new BoundedQueue<number>(2);
  assert.equal(q.offer(1), true);
  assert.equal(q.offer(2), true);
  assert.equal(q.offer(3), false);
  assert.deepEqual({ ...q.counters(), capacity: 0 }, { enqueued: 2, dequeued: 0, dropped: 1, waits: 0, depth: 2, capacity: 0 });
});

test('push waits for room (backpressure) and keeps order', async () => {
  const q = new BoundedQueue<number>(1);
  await q.push(1);
  let second = false;
  const pending = q.push(2).then(() => (second = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false, 'push must wait while full');
  assert.equal(await q.take(), 1);
  await pending;
  assert.equal(second, true);
  assert.equal(await q.take(), 2);
  assert.equal(q.counters().waits, 1);
});

test('take waits for an item, and close drains then ends', async () => {
  const q = new BoundedQueue<string>(4);
  const later = q.take();
  q.offer('a');
  assert.equal(await later, 'a');
  q.offer('b');
  q.close();
  assert.equal(q.offer('c'), false);
  assert.equal(await q.take(), 'b');
  assert.equal(await q.take(), undefined);
});

test('close wakes a blocked producer with false', async () => {
  const q = new BoundedQueue<number>(1);
  q.offer(1);
  const p = q.push(2);
  q.close();
  assert.equal(await p, false);
});

test('capacity must be a positive integer', () => {
  assert.throws(() => new BoundedQueue(0), RangeError);
});
