import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import { LATEST_SCHEMA_VERSION } from './migrations.ts';
import { openStoreForWriting, openStoreReadOnly } from './open-store.ts';
import { applyRetention } from './retention.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a new store is created in WAL mode at the latest schema version', () => {
  const path = join(dir, 'new', 'daemoneye.db');
  const db = openStoreForWriting(path);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
  db.close();
  const again = openStoreForWriting(path);
  again.close();
});

test('a file that is not a database is refused and left byte-for-byte as it was', () => {
  const path = join(dir, 'garbage.db');
  const garbage = Buffer.from('this is not sqlite, it is evidence\n'.repeat(200));
  writeFileSync(path, garbage);
  for (const open of [openStoreForWriting, openStoreReadOnly]) {
    assert.throws(() => open(path), (e) => isDaemonEyeError(e, 'DE_STORE_CORRUPT'));
  }
  assert.deepEqual(readFileSync(path), garbage);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('garbage')), ['garbage.db'], 'no -wal or -shm created');
});

test('a database with a valid header but damaged pages is refused, not crashed on', () => {
  const path = join(dir, 'damaged.db');
  const db = openStoreForWriting(path);
  db.exec("INSERT INTO scans (host, started_at, status) VALUES ('h', 1, 'complete')");
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const bytes = readFileSync(path);
  bytes.fill(0xa5, 100, bytes.length); // keep the 100-byte header, destroy every page
  writeFileSync(path, bytes);
  assert.throws(() => openStoreForWriting(path), (e) => isDaemonEyeError(e, 'DE_STORE_CORRUPT'));
  assert.deepEqual(readFileSync(path), bytes);
});

test('a store from a newer DaemonEye is refused', () => {
  const path = join(dir, 'future.db');
  const raw = new Database(path);
  raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
  raw.close();
  assert.throws(() => openStoreForWriting(path), (e) => isDaemonEyeError(e, 'DE_STORE_TOO_NEW'));
  assert.throws(() => openStoreReadOnly(path), (e) => isDaemonEyeError(e, 'DE_STORE_TOO_NEW'));
});

test('read-only open of a missing store says so', () => {
  assert.throws(() => openStoreReadOnly(join(dir, 'nope.db')), (e) => isDaemonEyeError(e, 'DE_STORE_MISSING'));
  assert.equal(existsSync(join(dir, 'nope.db')), false);
});

test('a store held under an exclusive lock is reported as locked', () => {
  const path = join(dir, 'locked.db');
  openStoreForWriting(path).close();
  const holder = new Database(path);
  holder.pragma('journal_mode = DELETE');
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.exec('BEGIN EXCLUSIVE');
  try {
    // SQLite waits its busy timeout (5 s) for the lock, then gives up with a clear error.
    assert.throws(() => openStoreForWriting(path), (e) => isDaemonEyeError(e, 'DE_STORE_LOCKED'));
  } finally {
    holder.exec('COMMIT');
    holder.close();
  }
});

test('retention removes scans past the age limit, keeps the newest, and cascades to snapshots', () => {
  const db = openStoreForWriting(join(dir, 'retention.db'));
  const day = 86_400_000;
  const now = 100 * day;
  const insert = db.prepare("INSERT INTO scans (host, started_at, status) VALUES ('h', ?, 'complete')");
  for (const age of [30, 20, 10, 1, 0]) insert.run(now - age * day);
  db.exec(`INSERT INTO process_snapshots (scan_id, pid, name, command_line, argv, start_time, start_ticks, cpu_usage,
    memory_usage, status, hash_status, accessible, is_kernel_thread, collection_time)
    SELECT scan_id, 1, 'init', '', '[]', 0, 0, 0, 0, 'sleeping', 'none', 1, 0, 0 FROM scans`);
  const r = applyRetention(db, { maxAgeDays: 7, maxSizeBytes: 1 << 30 }, now);
  assert.equal(r.scansDeleted, 3);
  assert.deepEqual((db.prepare('SELECT count(*) AS n FROM process_snapshots').get() as { n: number }).n, 2);
  // Kernel events past the age limit go too.
  db.prepare(`INSERT INTO process_exit (time, ktime_ns, pid, ppid, user_id, comm, exit_code, signal) VALUES (?, 0, 1, 1, 0, 'x', 0, 0)`).run(now - 30 * day);
  db.prepare(`INSERT INTO process_exit (time, ktime_ns, pid, ppid, user_id, comm, exit_code, signal) VALUES (?, 0, 2, 1, 0, 'x', 0, 0)`).run(now);
  applyRetention(db, { maxAgeDays: 7, maxSizeBytes: 1 << 30 }, now);
  assert.deepEqual(db.prepare('SELECT pid FROM process_exit').all(), [{ pid: 2 }]);
  // A tiny size cap trims everything but the newest scan.
  applyRetention(db, { maxAgeDays: 365, maxSizeBytes: 1 }, now);
  assert.deepEqual(db.prepare('SELECT scan_id FROM scans').all(), [{ scan_id: 5 }]);
  db.close();
});
