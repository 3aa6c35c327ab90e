// TaxiiStorage on the DaemonEye store (tables taxii_* of schema version 21, docs/schema/intel.md).
// date_added is strictly increasing across the store (so unique): a client paging by `next` (which
// carries the last date_added served) or by added_after sees the same sequence, and a resumed sync
// using X-TAXII-Date-Added-Last neither repeats nor skips an object. Pages are range seeks on
// (collection_id, date_added_us).

import { randomUUID } from 'node:crypto';
import type { Db } from '../../../store/open-store.ts';
import { formatStixMicros, parseStixTimeMicros } from '../stix-time.ts';
import type { AddResult, CollectionRecord, ObjectQuery, StatusRecord, StoredObject, TaxiiStorage } from './taxii-storage.ts';

const STIX_ID = /^[a-z0-9][a-z0-9-]{0,249}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

interface CollectionRow { collection_id: string; api_root: string; title: string; description: string | null; can_read: number; can_write: number }
interface ObjectRow { seq: number; object_id: string; object_type: string; version: string; spec_version: string; date_added_us: number; object: string }
interface StatusRow { status_id: string; collection_id: string; created_us: number; status: 'pending' | 'complete'; successes: string; failures: string; pendings: string }

export class SqliteTaxiiStorage implements TaxiiStorage {
  readonly #db: Db;
  readonly #now: () => number;

  /** `nowUs` is injectable so tests can pin date_added; it defaults to the wall clock. */
  constructor(db: Db, nowUs: () => number = () => Date.now() * 1000) {
    this.#db = db;
    this.#now = nowUs;
  }

  createCollection(c: Omit<CollectionRecord, 'description'> & { description?: string | null }): void {
    this.#db.prepare(`INSERT INTO taxii_collections (collection_id, api_root, title, description, can_read, can_write)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (collection_id) DO UPDATE SET api_root = excluded.api_root, title = excluded.title,
      description = excluded.description, can_read = excluded.can_read, can_write = excluded.can_write`)
      .run(c.id, c.apiRoot, c.title, c.description ?? null, c.canRead ? 1 : 0, c.canWrite ? 1 : 0);
  }

  collections(apiRoot: string): CollectionRecord[] {
    return (this.#db.prepare('SELECT * FROM taxii_collections WHERE api_root = ? ORDER BY collection_id').all(apiRoot) as CollectionRow[]).map(toCollection);
  }

  collection(apiRoot: string, id: string): CollectionRecord | null {
    const row = this.#db.prepare('SELECT * FROM taxii_collections WHERE api_root = ? AND collection_id = ?').get(apiRoot, id) as CollectionRow | undefined;
    return row === undefined ? null : toCollection(row);
  }

  query(q: ObjectQuery): { objects: StoredObject[]; more: boolean } {
    const where = ['o.collection_id = ?'];
    const args: unknown[] = [q.collectionId];
    // A next token and added_after both bound date_added from below: one range seek on the index.
    const after = Math.max(q.addedAfterUs ?? -1, q.afterUs ?? -1);
    if (after >= 0) { where.push('o.date_added_us > ?'); args.push(after); }
    const inList = (col: string, values: readonly string[] | undefined) => {
      if (!values?.length) return;
      where.push(`${col} IN (${values.map(() => '?').join(', ')})`);
      args.push(...values);
    };
    inList('o.object_type', q.types);
    inList('o.object_id', q.ids);
    inList('o.spec_version', q.specVersions);
    const versions = q.versions?.length ? q.versions : ['last'];
    if (!versions.includes('all')) {
      const any: string[] = [];
      const same = 'FROM taxii_objects v WHERE v.collection_id = o.collection_id AND v.object_id = o.object_id';
      if (versions.includes('last')) any.push(`o.version = (SELECT max(v.version) ${same})`);
      if (versions.includes('first')) any.push(`o.version = (SELECT min(v.version) ${same})`);
      const exact = versions.filter((v) => v !== 'last' && v !== 'first');
      if (exact.length) {
        any.push(`o.version IN (${exact.map(() => '?').join(', ')})`);
        args.push(...exact);
      }
      where.push(`(${any.join(' OR ')})`);
    }
    const rows = this.#db.prepare(`SELECT o.seq, o.object_id, o.object_type, o.version, o.spec_version, o.date_added_us, o.object
      FROM taxii_objects o WHERE ${where.join(' AND ')} ORDER BY o.date_added_us LIMIT ?`).all(...args, q.limit + 1) as ObjectRow[];
    const more = rows.length > q.limit;
    return {
      more,
      objects: rows.slice(0, q.limit).map((r) => ({
        seq: r.seq, id: r.object_id, type: r.object_type, version: r.version, specVersion: r.spec_version, dateAddedUs: r.date_added_us, json: r.object,
      })),
    };
  }

  add(collectionId: string, objects: readonly unknown[]): StatusRecord {
    const successes: AddResult[] = [];
    const failures: AddResult[] = [];
    const statusId = randomUUID();
    const insert = this.#db.prepare(`INSERT INTO taxii_objects (collection_id, object_id, object_type, version, spec_version, date_added_us, object)
      VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (collection_id, object_id, version) DO NOTHING`);
    const lastAdded = this.#db.prepare('SELECT coalesce(max(date_added_us), 0) AS us FROM taxii_objects');
    const createdUs = this.#now();
    this.#db.transaction(() => {
      let added = Math.max(createdUs, (lastAdded.get() as { us: number }).us + 1);
      for (const o of objects) {
        const checked = checkObject(o, added);
        if ('ok' in checked) {
          failures.push(checked);
          continue;
        }
        const r = insert.run(collectionId, checked.id, checked.type, checked.version, checked.specVersion, added, JSON.stringify(o));
        if (r.changes > 0) added++;
        successes.push({ id: checked.id, version: checked.version, ok: true });
      }
      this.#db.prepare(`INSERT INTO taxii_status (status_id, collection_id, created_us, status, total_count, success_count, failure_count,
        pending_count, successes, failures, pendings) VALUES (?, ?, ?, 'complete', ?, ?, ?, 0, ?, ?, '[]')`)
        .run(statusId, collectionId, createdUs, objects.length, successes.length, failures.length,
          JSON.stringify(successes.map(({ id, version }) => ({ id, version }))),
          JSON.stringify(failures.map(({ id, version, message }) => ({ id, version, message }))));
    })();
    return { id: statusId, collectionId, status: 'complete', createdUs, successes, failures, pendings: [] };
  }

  status(apiRoot: string, id: string): StatusRecord | null {
    const row = this.#db.prepare(`SELECT s.* FROM taxii_status s JOIN taxii_collections c USING (collection_id)
      WHERE c.api_root = ? AND s.status_id = ?`).get(apiRoot, id) as StatusRow | undefined;
    if (row === undefined) return null;
    return {
      id: row.status_id, collectionId: row.collection_id, status: row.status, createdUs: row.created_us,
      successes: JSON.parse(row.successes) as AddResult[], failures: JSON.parse(row.failures) as AddResult[], pendings: JSON.parse(row.pendings) as AddResult[],
    };
  }
}

function toCollection(r: CollectionRow): CollectionRecord {
  return { id: r.collection_id, apiRoot: r.api_root, title: r.title, description: r.description, canRead: r.can_read === 1, canWrite: r.can_write === 1 };
}

/** The minimum a TAXII server must know to file an object: id, type, version, spec version. */
function checkObject(o: unknown, addedUs: number): { id: string; type: string; version: string; specVersion: string } | AddResult {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return { id: '', version: '', ok: false, message: 'not a JSON object' };
  const x = o as Record<string, unknown>;
  const id = typeof x.id === 'string' ? x.id : '';
  const fail = (message: string): AddResult => ({ id, version: typeof x.modified === 'string' ? x.modified : '', ok: false, message });
  if (typeof x.type !== 'string' || !STIX_ID.test(id) || !id.startsWith(x.type + '--')) return fail('id must be TYPE--UUID and match type');
  const specVersion = x.spec_version ?? '2.1';
  if (specVersion !== '2.1') return fail(`spec_version ${JSON.stringify(specVersion)} is not 2.1`);
  for (const k of ['created', 'modified'] as const) {
    if (x[k] !== undefined && parseStixTimeMicros(x[k]) === null) return fail(`${k} is not a valid STIX timestamp`);
  }
  // SCOs carry no created/modified: their one version is the moment we added them.
  const versionUs = parseStixTimeMicros(x.modified) ?? parseStixTimeMicros(x.created) ?? addedUs;
  return { id, type: x.type, version: formatStixMicros(versionUs), specVersion };
}
