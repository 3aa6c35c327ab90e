import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutableHasher } from './executable-hasher.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-hasher-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: number, fill = name): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(bytes, fill));
  return path;
}
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('small files hash inline; the second lookup is a cache hit that reads nothing', () => {
  const hasher = new ExecutableHasher();
  const path = file('small', 3000);
  assert.deepEqual(hasher.hash(path), { status: 'ok', hash: sha256(path) });
  const before = hasher.counters();
  assert.deepEqual(hasher.hash(path), { status: 'ok', hash: sha256(path) });
  const after = hasher.counters();
  assert.equal(after.hash_cache_hits, before.hash_cache_hits! + 1);
  assert.equal(after.bytes_hashed, before.bytes_hashed);
  assert.equal(after.bytes_hashed, 3000);
});

test('a changed file (new size or mtime) is hashed again', () => {
  const hasher = new ExecutableHasher();
  const path = file('changing', 100);
  const first = hasher.hash(path).hash;
  writeFileSync(path, Buffer.alloc(100, 'z')); // same size, new content and mtime
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  const second = hasher.hash(path);
  assert.notEqual(second.hash, first);
  assert.equal(second.hash, sha256(path));
  assert.equal(hasher.counters().hash_cache_misses, 2);
});

test('large files are hashed in the background: pending, then ok from the cache', async () => {
  const hasher = new ExecutableHasher({ inlineMaxBytes: 1024, maxBytes: 1024 * 1024 });
  const path = file('large', 300_000);
  assert.deepEqual(hasher.hash(path), { status: 'pending', hash: null });
  assert.deepEqual(hasher.hash(path), { status: 'pending', hash: null }); // queued once
  await hasher.idle();
  assert.deepEqual(hasher.hash(path), { status: 'ok', hash: sha256(path) });
  assert.equal(hasher.counters().bytes_hashed, 300_000);
  assert.equal(hasher.counters().hash_background_queued, 1);
});

test('too large, not a regular file, missing', () => {
  const hasher = new ExecutableHasher({ inlineMaxBytes: 10, maxBytes: 100 });
  assert.deepEqual(hasher.hash(file('huge', 101)), { status: 'too_large', hash: null });
  assert.deepEqual(hasher.hash(dir), { status: 'unreadable', hash: null });
  assert.deepEqual(hasher.hash(join(dir, 'nope')), { status: 'none', hash: null });
  assert.equal(hasher.counters().bytes_hashed, 0);
});

test('maxBytes 0 turns hashing off', () => {
  const hasher = new ExecutableHasher({ inlineMaxBytes: 0, maxBytes: 0 });
  assert.deepEqual(hasher.hash(file('off', 10)), { status: 'none', hash: null });
  assert.equal(hasher.counters().hash_cache_misses, 0);
  assert.equal(hasher.counters().bytes_hashed, 0);
});

test('the cache is bounded, least recently used evicted first', () => {
  const hasher = new ExecutableHasher({ cacheEntries: 2 });
  const [a, b, c] = ['lru-a', 'lru-b', 'lru-c'].map((n) => file(n, 10));
  hasher.hash(a!);
  hasher.hash(b!);
  hasher.hash(a!); // a is now the most recent
  hasher.hash(c!); // evicts b
  const misses = hasher.counters().hash_cache_misses!;
  hasher.hash(a!);
  assert.equal(hasher.counters().hash_cache_misses, misses);
  hasher.hash(b!);
  assert.equal(hasher.counters().hash_cache_misses, misses + 1);
});

test('stop() ends background work and later files are not queued', async () => {
  const hasher = new ExecutableHasher({ inlineMaxBytes: 10 });
  hasher.hash(file('bg-1', 50_000));
  await hasher.stop();
  assert.equal(hasher.hash(file('bg-2', 50_000)).status, 'pending');
  await hasher.idle();
  assert.equal(hasher.counters().hash_background_queued, 1);
});
