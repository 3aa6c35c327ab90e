// Opens the center's database: SQLite (one file in the data dir, zero set-up) or PostgreSQL (a
// postgres:// URL), behind one Kysely query layer, and brings its schema up to date.
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { CenterTables } from './center-schema.ts';
import { centerMigrations } from './migrations.ts';

export type Engine = 'sqlite' | 'postgres';
export type CenterDb = Kysely<CenterTables>;

export interface OpenedCenterDb {
  readonly db: CenterDb;
  readonly engine: Engine;
  close(): Promise<void>;
}

/** int8 and numeric come back from node-postgres as strings; every such column here is an epoch-ms or a count. */
const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * Kysely's SQLite migration lock is a no-op (it assumes one process). A center process and a
 * `center token` run may open the file at once, so the lock here is SQLite's own write lock:
 * BEGIN IMMEDIATE (waiting up to busy_timeout for another process) until the migrations are done.
 */
class LockingSqliteAdapter extends SqliteAdapter {
  override async acquireMigrationLock(db: Kysely<any>): Promise<void> {
    await sql`BEGIN IMMEDIATE`.execute(db);
  }
  override async releaseMigrationLock(db: Kysely<any>): Promise<void> {
    await sql`COMMIT`.execute(db);
  }
}
class LockingSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new LockingSqliteAdapter();
  }
}

export function engineOf(database: string): Engine {
  return /^postgres(ql)?:\/\//.test(database) ? 'postgres' : 'sqlite';
}

export async function openCenterDb(database: string, options: { poolSize?: number } = {}): Promise<OpenedCenterDb> {
  const engine = engineOf(database);
  let db: CenterDb;
  if (engine === 'postgres') {
    const pool = new pg.Pool({ connectionString: database, max: options.poolSize ?? 10, types: PG_TYPES });
    db = new Kysely<CenterTables>({ dialect: new PostgresDialect({ pool }) });
  } else {
    let file: Database.Database;
    try {
      file = new Database(database);
      file.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a committed transaction survives a process kill (kill -9), which is the
      // failure the center must ride out; only a power cut may lose the last commits.
      file.pragma('synchronous = NORMAL');
      file.pragma('busy_timeout = 5000');
    } catch (e) {
      throw new DaemonEyeError('DE_CENTER_DB', `cannot open the center database ${database}: ${(e as Error).message}`, { cause: e });
    }
    db = new Kysely<CenterTables>({ dialect: new LockingSqliteDialect({ database: file }) });
  }
  try {
    const { error, results } = await new Migrator({ db, provider: centerMigrations(engine) }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '?';
      throw new DaemonEyeError('DE_CENTER_DB', `center database migration ${failed} failed: ${(error as Error).message}`, { cause: error });
    }
  } catch (e) {
    await db.destroy().catch(() => {});
    if (e instanceof DaemonEyeError) throw e;
    throw new DaemonEyeError('DE_CENTER_DB', `cannot reach or migrate the center database (${engine}): ${(e as Error).message}`, { cause: e });
  }
  return { db, engine, close: () => db.destroy() };
}
