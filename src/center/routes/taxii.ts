// TAXII 2.1 collections of the security center, under /taxii2/ (discovery) and /taxii2/daemoneye/
// (the API root): `indicators`, the indicator sets analysts author at the center published as STIX
// indicators (read-only), and `sightings`, where agents and partner centers post what they saw
// (readable by analysts). The protocol is the TAXII server module (src/intel/taxii/server); this
// file only wires it in: the center's mutual-TLS check (auth.ts) runs first on every TAXII route,
// the caller's role decides what it may read or write, and storage is a SQLite file in the data dir
// (also when the center's own database is PostgreSQL: TAXII objects are not federation state).
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../../store/open-store.ts';
import { openStoreForWriting } from '../../store/open-store.ts';
import { taxiiServer, type Access } from '../../intel/taxii/server/taxii-server.ts';
import { SqliteTaxiiStorage } from '../../intel/taxii/server/sqlite-taxii-storage.ts';
import type { CollectionRecord } from '../../intel/taxii/server/taxii-storage.ts';
import { uuidV5 } from '../../intel/feeds/share-engine.ts';
import type { CenterContext } from '../center-context.ts';
import type { CenterTables } from '../db/center-schema.ts';
import type { Role } from '../pki/x509.ts';

export const TAXII_PREFIX = '/taxii2';
export const TAXII_API_ROOT = 'daemoneye';
export const INDICATORS = 'indicators';
export const SIGHTINGS = 'sightings';
export const taxiiStoreFile = (dataDir: string) => join(dataDir, 'taxii.db');

/** Namespace of the UUIDv5 ids given to authored indicators that carry no STIX id of their own. */
const INDICATOR_NAMESPACE = '6d2f4c1e-3b1a-5e7f-9c0d-a1b2c3d4e5f6';
const STIX_INDICATOR_ID = /^indicator--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Optional STIX indicator properties an authored entry may carry through to the published object. */
const CARRIED = ['description', 'indicator_types', 'valid_until', 'kill_chain_phases', 'labels', 'confidence', 'external_references', 'lang'] as const;
const MAX_PATTERN = 64 * 1024;

/** Who may do what: agents and partner centers read indicators and post sightings; analysts read both. */
const PERMISSIONS: Record<string, Record<Access, readonly Role[]>> = {
  [INDICATORS]: { read: ['agent', 'center', 'analyst'], write: [] },
  [SIGHTINGS]: { read: ['analyst'], write: ['agent', 'center'] },
};

const TAXII_REFUSALS: Record<number, string> = {
  400: 'taxii_bad_request', 403: 'taxii_forbidden', 406: 'taxii_not_acceptable', 413: 'payload_too_large', 415: 'unsupported_media_type', 422: 'taxii_unprocessable',
};

export function permits(principal: string, access: Access, c: CollectionRecord): boolean {
  const role = principal.split(':', 1)[0] as Role;
  return PERMISSIONS[c.id]?.[access].includes(role) ?? false;
}

/** Registers the TAXII routes on the center; the store file closes with the server. */
export function taxiiRoutes(app: FastifyInstance, ctx: CenterContext): void {
  const db = openStoreForWriting(taxiiStoreFile(ctx.dataDir));
  const storage = new SqliteTaxiiStorage(db);
  storage.createCollection({ id: INDICATORS, apiRoot: TAXII_API_ROOT, title: 'Indicators', description: 'indicator sets authored at this center, as STIX 2.1 indicators', canRead: true, canWrite: false });
  storage.createCollection({ id: SIGHTINGS, apiRoot: TAXII_API_ROOT, title: 'Sightings', description: 'STIX 2.1 sightings posted by agents and partners', canRead: true, canWrite: true });
  const publisher = new IndicatorPublisher(ctx, db, storage);
  app.addHook('onClose', async () => db.close());

  void app.register(async (scope) => {
    scope.addHook('onRoute', (r) => {
      // Every TAXII route goes through the center's certificate check (auth.ts reads config.roles);
      // which collection a role may read or write is decided by `permits` below.
      r.config = { ...(r.config ?? {}), roles: ['agent', 'center', 'analyst'] };
      // The module serves discovery at PREFIX/taxii2/; mounted at /taxii2, discovery is /taxii2/ itself.
      if (r.url === `${TAXII_PREFIX}/taxii2/`) r.url = `${TAXII_PREFIX}/`;
    });
    // TAXII-level refusals (wrong media type, a collection the role may not use, too large) go to
    // the center's security log like the certificate refusals do. Only requests that passed the
    // certificate check get here, so auth.ts's own refusals are not recorded twice.
    const authenticated = new WeakSet<FastifyRequest>();
    scope.addHook('onRequest', async (req) => { authenticated.add(req); });
    scope.addHook('onResponse', async (req, reply) => {
      const reason = TAXII_REFUSALS[reply.statusCode];
      if (reason !== undefined && authenticated.has(req)) await ctx.refusals.record(req, reason, `${req.method} ${req.caller?.role ?? ''}`);
    });
    // Indicator sets authored since the last request are published before the collection is read.
    scope.addHook('preHandler', async (req) => {
      if (req.url.startsWith(`${TAXII_PREFIX}/${TAXII_API_ROOT}/collections/${INDICATORS}/`)) await publisher.sync();
    });
    await scope.register(taxiiServer, {
      storage, title: `DaemonEye security center ${ctx.centerId}`,
      description: 'TAXII 2.1 collections of this center (docs/center.md)',
      apiRoots: [{ name: TAXII_API_ROOT, title: 'DaemonEye center', description: 'indicators this center distributes and sightings it received' }],
      maxContentLength: ctx.settings.max_body_bytes,
      authenticate: (req: FastifyRequest) => (req.caller === undefined ? null : `${req.caller.role}:${req.caller.id}`),
      permits,
    });
  }, { prefix: TAXII_PREFIX });
}

type AuthoredRow = CenterTables['authored_objects'];
type Stix = Record<string, unknown> & { id: string };

/**
 * Publishes indicator sets into the `indicators` collection. Authored objects carry a global
 * revision, so each sync reads only sets changed since the last one; storing a version the
 * collection already holds is a no-op, so a restart simply re-reads from revision 0.
 */
class IndicatorPublisher {
  readonly #ctx: CenterContext;
  readonly #db: Db;
  readonly #storage: SqliteTaxiiStorage;
  #synced = 0;
  #running: Promise<void> = Promise.resolve();

  constructor(ctx: CenterContext, db: Db, storage: SqliteTaxiiStorage) {
    this.#ctx = ctx;
    this.#db = db;
    this.#storage = storage;
  }

  /** One sync at a time: concurrent readers wait for the same round. */
  sync(): Promise<void> {
    this.#running = this.#running.then(() => this.#round(), () => this.#round());
    return this.#running;
  }

  async #round(): Promise<void> {
    const latest = await this.#ctx.repo.latestRevision();
    if (latest <= this.#synced) return;
    let cursor = this.#synced;
    for (;;) {
      const rows = await this.#ctx.repo.objectsSince(cursor, 500, 'indicator_set');
      for (const row of rows) {
        // One set that cannot be published must not keep every other set (and the collection) from agents.
        try {
          this.#publish(row);
        } catch (e) {
          this.#ctx.log.error('indicator set not published', { set: row.object_id, reason: (e as Error).message });
        }
      }
      if (rows.length < 500) break;
      cursor = rows[rows.length - 1]!.revision;
    }
    this.#synced = latest;
  }

  #publish(row: AuthoredRow): void {
    const setId = row.object_id;
    const previous = this.#publishedOf(setId);
    const modified = new Date(row.updated_at).toISOString();
    const { entries, rejected } = row.deleted === 1 ? { entries: [], rejected: [] } : indicatorEntries(row.body);
    for (const r of rejected) this.#ctx.log.warn('indicator set entry not published', { set: setId, reason: r });
    const out: Stix[] = [];
    const current = new Set<string>();
    for (const e of entries) {
      const id = typeof e.id === 'string' && STIX_INDICATOR_ID.test(e.id) ? e.id.toLowerCase() : `indicator--${uuidV5(INDICATOR_NAMESPACE, `${setId}\n${e.pattern}`)}`;
      if (current.has(id)) continue;
      current.add(id);
      const before = previous.get(id);
      const created = typeof before?.created === 'string' ? before.created : modified;
      const body: Stix = {
        type: 'indicator', spec_version: '2.1', id, created, modified: laterThan(modified, before),
        name: typeof e.name === 'string' ? e.name : `${setId}: ${e.pattern.slice(0, 120)}`,
        pattern: e.pattern, pattern_type: typeof e.pattern_type === 'string' ? e.pattern_type : 'stix',
        valid_from: typeof e.valid_from === 'string' ? e.valid_from : created,
        ...Object.fromEntries(CARRIED.filter((k) => e[k] !== undefined).map((k) => [k, e[k]])),
        x_daemoneye_indicator_set: setId,
      };
      // Unchanged since it was published: no new version (agents would re-fetch it for nothing).
      if (before !== undefined && before.revoked !== true && sameContent(before, body)) continue;
      out.push(body);
    }
    // Indicators that left the set (or whose set was deleted) are revoked, as STIX expresses removal.
    for (const [id, before] of previous) {
      if (!current.has(id) && before.revoked !== true) out.push({ ...before, modified: laterThan(modified, before), revoked: true });
    }
    if (out.length === 0) return;
    const status = this.#storage.add(INDICATORS, out);
    for (const f of status.failures) this.#ctx.log.warn('indicator not published', { set: setId, id: f.id, reason: f.message ?? '' });
  }

  /** The latest published version of every indicator of one set. */
  #publishedOf(setId: string): Map<string, Stix> {
    const rows = this.#db.prepare(`SELECT o.object FROM taxii_objects o WHERE o.collection_id = ? AND o.object_type = 'indicator'
      AND json_extract(o.object, '$.x_daemoneye_indicator_set') = ?
      AND o.version = (SELECT max(v.version) FROM taxii_objects v WHERE v.collection_id = o.collection_id AND v.object_id = o.object_id)`)
      .pluck().all(INDICATORS, setId) as string[];
    return new Map(rows.map((j) => { const o = JSON.parse(j) as Stix; return [o.id, o]; }));
  }
}

/** `modified` must grow with every version, even when two edits share a millisecond. */
function laterThan(modified: string, before: Stix | undefined): string {
  const prev = typeof before?.modified === 'string' ? Date.parse(before.modified) : NaN;
  return Number.isNaN(prev) || Date.parse(modified) > prev ? modified : new Date(prev + 1).toISOString();
}

function sameContent(a: Stix, b: Stix): boolean {
  const strip = (o: Stix) => JSON.stringify(Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'modified').sort(([x], [y]) => (x < y ? -1 : 1))));
  return strip(a) === strip(b);
}

type Entry = Record<string, unknown> & { pattern: string };

/**
 * The indicators of an indicator set body. Accepted shapes: a list, `{"indicators": [...]}`, or a
 * STIX bundle (its `indicator` objects); each entry is a STIX pattern string or an object with
 * `pattern` (and optionally id, name, pattern_type, valid_from and the properties in CARRIED).
 */
export function indicatorEntries(bodyJson: string): { entries: Entry[]; rejected: string[] } {
  let body: unknown;
  try {
    body = JSON.parse(bodyJson);
  } catch {
    return { entries: [], rejected: ['the body is not JSON'] };
  }
  const bundled = body !== null && typeof body === 'object' && (body as { type?: unknown }).type === 'bundle' ? (body as { objects?: unknown }).objects : undefined;
  const list: unknown = Array.isArray(body) ? body
    : Array.isArray(bundled) ? bundled.filter((o: unknown) => (o as { type?: unknown } | null)?.type === 'indicator')
      : body !== null && typeof body === 'object' ? (body as { indicators?: unknown }).indicators : undefined;
  if (!Array.isArray(list)) return { entries: [], rejected: ['the body has no indicators (a list, {"indicators": [...]} or a STIX bundle)'] };
  const entries: Entry[] = [];
  const rejected: string[] = [];
  list.forEach((e: unknown, i) => {
    const o = typeof e === 'string' ? { pattern: e } : e;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return void rejected.push(`entry ${i} is neither a pattern nor an object`);
    const pattern = (o as { pattern?: unknown }).pattern;
    if (typeof pattern !== 'string' || pattern.trim() === '' || pattern.length > MAX_PATTERN) return void rejected.push(`entry ${i} has no pattern (or one over ${MAX_PATTERN} characters)`);
    entries.push(o as Entry);
  });
  return { entries, rejected };
}
