// Opening the SQLite store safely. A file that is not a database, is corrupt, or is locked must give
// a clear error and be left exactly as it was: so we look at the header before SQLite touches the
// file, and switch to WAL (which creates side files) only once the file has proved to be ours.
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

export const STORE_FILE = 'daemoneye.db';
const SQLITE_MAGIC = 'SQLite format 3\0';

export function storePath(dataDir: string): string {
  return join(dataDir, STORE_FILE);
}

/** Opens (creating and migrating if needed) the store for the agent, the only writer. */
export function openStoreForWriting(path: string): Db {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  } catch (cause) {
    throw new DaemonEyeError('DE_DATA_DIR', `cannot create ${dirname(path)}`, { cause });
  }
  checkHeader(path);
  const db = openOrExplain(path, {});
  try {
    probe(db, path);
    // WAL: readers (rules, `daemoneye query`) never block the writer and vice versa.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Whichever connection commits past the mark runs the checkpoint: at the default 1,000 pages the
    // main thread ran the kernel writer's checkpoints ten times as often as that writer would
    // (src/agent/kernel-store-worker.ts sets the same 10,000).
    db.pragma('wal_autocheckpoint = 10000');
    if (schemaVersion(db) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    migrate(db, path);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens an existing store read-only: queries and rules can never write through this handle. */
export function openStoreReadOnly(path: string): Db {
  if (!existsSync(path)) {
    throw new DaemonEyeError('DE_STORE_MISSING', `no store at ${path}`);
  }
  checkHeader(path);
  const db = openOrExplain(path, { readonly: true, fileMustExist: true });
  try {
    probe(db, path);
    db.pragma('busy_timeout = 5000');
    const version = schemaVersion(db);
    if (version > LATEST_SCHEMA_VERSION) throw tooNew(path, version);
    if (version < LATEST_SCHEMA_VERSION) {
      // A store written by an older DaemonEye: upgrade it once (the agent would on its next start),
      // then read as asked. Migrations only add tables and columns.
      db.close();
      openStoreForWriting(path).close();
      return openStoreReadOnly(path);
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** An in-memory store with the current schema: rule fixtures and validation run against it. */
export function openMemoryStore(): Db {
  const db = new Database(':memory:');
  migrate(db, ':memory:');
  return db;
}

function openOrExplain(path: string, options: Database.Options): Db {
  try {
    return new Database(path, options);
  } catch (cause) {
    throw translateSqliteError(cause, path);
  }
}

function checkHeader(path: string): void {
  if (!existsSync(path)) return;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new DaemonEyeError('DE_STORE_OPEN', `cannot read ${path}`, { cause });
  }
  try {
    const header = Buffer.alloc(16);
    const n = readSync(fd, header, 0, 16, 0);
    // An empty file is what SQLite itself would create: accept it.
    if (n > 0 && header.toString('latin1', 0, n) !== SQLITE_MAGIC) {
      throw new DaemonEyeError('DE_STORE_CORRUPT', `${path} is not a SQLite database (bad header)`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Touches the schema so a damaged file fails here, before we change anything. */
function probe(db: Db, path: string): void {
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (cause) {
    throw translateSqliteError(cause, path);
  }
}

export function translateSqliteError(cause: unknown, path: string): DaemonEyeError {
  const code = (cause as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DaemonEyeError('DE_STORE_LOCKED', `${path} is locked by another process`, { cause });
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new DaemonEyeError('DE_STORE_CORRUPT', `${path} is damaged: ${(cause as Error).message}`, { cause });
  }
  return new DaemonEyeError('DE_STORE_OPEN', `cannot open ${path}: ${(cause as Error).message}`, { cause });
}

function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function tooNew(path: string, version: number): DaemonEyeError {
  return new DaemonEyeError(
    'DE_STORE_TOO_NEW',
    `${path} has schema version ${version}; this build knows up to ${LATEST_SCHEMA_VERSION}`,
  );
}

function migrate(db: Db, path: string): void {
  const current = schemaVersion(db);
  if (current > LATEST_SCHEMA_VERSION) throw tooNew(path, current);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    // Each migration and its version bump commit together: a crash leaves the old version intact.
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
