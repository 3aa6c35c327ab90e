// The center's one query layer (Kysely over SQLite or PostgreSQL). Every write that must be
// atomic is one transaction or one conditional statement, never a read-then-write in process
// memory, so several center processes can share one PostgreSQL behind a load balancer.
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { CenterDb } from './db/open-center-db.ts';
import type { CenterTables } from './db/center-schema.ts';
import type { AlertInput, HeartbeatInput, TriageInput } from './alert-input.ts';
import { secretMatches } from './enrollment-token.ts';
import { tick } from './hlc.ts';

/** SQLite allows 32,766 bound values per statement; 16 columns x 500 rows stays well below. */
const INSERT_CHUNK = 500;

export type AlertRecord = Omit<CenterTables['alerts'], 'id'> & { id: number };

export interface AlertFilter {
  readonly status?: string | undefined;
  readonly severity?: readonly string[] | undefined;
  readonly rule_id?: string | undefined;
  readonly host?: string | undefined;
  readonly origin?: string | undefined;
  readonly assignee?: string | undefined;
  readonly q?: string | undefined;
  readonly since?: number | undefined;
  /** Keyset pagination: alerts with id below this (newest first). */
  readonly before_id?: number | undefined;
  readonly limit: number;
}

export type TokenCheck = { ok: true; role: string } | { ok: false; reason: 'unknown' | 'expired' | 'used' | 'bad_secret' };

export type TriageOutcome =
  | { ok: true; alert: AlertRecord }
  | { ok: false; reason: 'not_found' | 'version_mismatch'; current?: AlertRecord };

export class CenterRepo {
  readonly db: CenterDb;
  constructor(db: CenterDb) {
    this.db = db;
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.db.selectFrom('center_meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.db.insertInto('center_meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }

  /**
   * The wall clock HLC stamps use: this host's clock plus the offset to the primary measured at the
   * last federation sync (0 on a primary or a center that never synced). Read from the database
   * so every process of this center uses the same correction.
   */
  async hlcNow(): Promise<number> {
    const offset = Number(await this.getMeta('clock_offset_ms') ?? 0);
    return Date.now() + (Number.isFinite(offset) ? offset : 0);
  }

  // ---- enrolment ----

  async createToken(id: string, secretSha256: string, role: string, now: number, ttlMs: number): Promise<void> {
    await this.db.insertInto('enrollment_tokens').values({ token_id: id, secret_sha256: secretSha256, role, created_at: now, expires_at: now + ttlMs, used_at: null, used_by: null }).execute();
  }

  /** Consumes a token: one conditional UPDATE, so two enrolments racing with one token cannot both win. */
  async consumeToken(id: string, secret: string, usedBy: string, now: number): Promise<TokenCheck> {
    const row = await this.db.selectFrom('enrollment_tokens').selectAll().where('token_id', '=', id).executeTakeFirst();
    if (row === undefined) return { ok: false, reason: 'unknown' };
    if (!secretMatches(secret, row.secret_sha256)) return { ok: false, reason: 'bad_secret' };
    if (row.used_at !== null) return { ok: false, reason: 'used' };
    if (row.expires_at <= now) return { ok: false, reason: 'expired' };
    const r = await this.db.updateTable('enrollment_tokens').set({ used_at: now, used_by: usedBy })
      .where('token_id', '=', id).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1 ? { ok: true, role: row.role } : { ok: false, reason: 'used' };
  }

  async addIdentity(i: { id: string; role: string; name: string; centerId: string; now: number }): Promise<void> {
    await this.db.insertInto('identities').values({
      id: i.id, role: i.role, name: i.name, enrolled_at: i.now, last_seen_at: null, health: null, version: null,
      outbox_pending: 0, shed_alerts: 0, center_id: i.centerId,
    }).execute();
  }

  async addCertificate(c: CenterTables['certificates']): Promise<void> {
    await this.db.insertInto('certificates').values(c).execute();
  }

  async certificate(serial: string): Promise<CenterTables['certificates'] | undefined> {
    return this.db.selectFrom('certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
  }

  async identity(id: string): Promise<CenterTables['identities'] | undefined> {
    return this.db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Revokes every certificate of an identity; returns how many were still valid. */
  async revokeIdentity(id: string, reason: string, now: number): Promise<number> {
    const r = await this.db.updateTable('certificates').set({ revoked_at: now, revoke_reason: reason })
      .where('identity_id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  // ---- ingest ----

  /**
   * Stores a batch of an agent's alerts in one transaction. (origin, origin_seq) and alert_uuid are
   * unique, so a batch delivered twice (the agent's outbox is at-least-once) stores each alert once.
   */
  async ingestAlerts(centerId: string, origin: string, alerts: readonly AlertInput[], now: number): Promise<{ inserted: number; duplicates: number }> {
    let inserted = 0;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < alerts.length; i += INSERT_CHUNK) {
        const rows = alerts.slice(i, i + INSERT_CHUNK).map((a) => alertRow(a, origin, centerId, now));
        const r = await trx.insertInto('alerts').values(rows).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        inserted += Number(r.numInsertedOrUpdatedRows ?? 0n);
      }
    });
    return { inserted, duplicates: alerts.length - inserted };
  }

  async heartbeat(id: string, h: HeartbeatInput, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('identities').set({
        last_seen_at: now, health: JSON.stringify({ host: h.host, ...h.health }), version: h.version,
        outbox_pending: h.outbox_pending, shed_alerts: h.shed_alerts,
      }).where('id', '=', id).execute();
      if (h.checkpoint !== null) {
        await trx.insertInto('audit_checkpoints').values({ origin: id, tree_size: h.checkpoint.tree_size, note: h.checkpoint.note, received_at: now })
          .onConflict((oc) => oc.doNothing()).execute();
      }
    });
  }

  // ---- analyst API ----

  async listAlerts(f: AlertFilter): Promise<AlertRecord[]> {
    let q = this.db.selectFrom('alerts').selectAll();
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.severity !== undefined && f.severity.length > 0) q = q.where('severity', 'in', [...f.severity]);
    if (f.rule_id !== undefined) q = q.where('rule_id', '=', f.rule_id);
    if (f.host !== undefined) q = q.where('host', '=', f.host);
    if (f.origin !== undefined) q = q.where('origin', '=', f.origin);
    if (f.assignee !== undefined) q = q.where('assignee', '=', f.assignee);
    if (f.since !== undefined) q = q.where('first_seen', '>=', f.since);
    if (f.before_id !== undefined) q = q.where('id', '<', f.before_id);
    if (f.q !== undefined && f.q !== '') {
      // Case-insensitive substring over what an analyst reads; LIKE wildcards in the text are literal.
      const pattern = `%${f.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) => eb.or(['summary', 'rule_name', 'rule_id', 'host'].map((c) =>
        eb(sql`lower(${sql.ref(c)})`, 'like', sql`${pattern} ESCAPE '\\'`))));
    }
    return q.orderBy('id', 'desc').limit(f.limit).execute() as Promise<AlertRecord[]>;
  }

  async alert(ref: string): Promise<AlertRecord | undefined> {
    const byId = /^\d{1,15}$/.test(ref);
    return this.db.selectFrom('alerts').selectAll().where(byId ? 'id' : 'alert_uuid', '=', byId ? Number(ref) : ref).executeTakeFirst() as Promise<AlertRecord | undefined>;
  }

  async notes(alertUuid: string): Promise<CenterTables['alert_notes'][]> {
    return this.db.selectFrom('alert_notes').selectAll().where('alert_uuid', '=', alertUuid).orderBy('hlc').execute();
  }

  async countAlerts(): Promise<number> {
    return Number((await this.db.selectFrom('alerts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  }

  /** A local triage edit: new version, new HLC stamp ticked from the alert's own stamp. */
  async triage(ref: string, t: TriageInput, actor: string, node: string, now: number): Promise<TriageOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const cur = await lockAlert(trx, ref);
      if (cur === undefined) return { ok: false, reason: 'not_found' } as const;
      if (t.expected_version !== undefined && t.expected_version !== cur.triage_version) return { ok: false, reason: 'version_mismatch', current: cur } as const;
      const hlc = tick(cur.triage_hlc, now, node);
      const changes: { triage_version: number; triage_hlc: string; triage_by: string; status?: string; assignee?: string | null } = { triage_version: cur.triage_version + 1, triage_hlc: hlc, triage_by: actor };
      if (t.status !== undefined) changes.status = t.status;
      if (t.assignee !== undefined) changes.assignee = t.assignee;
      const moved = t.status !== undefined || t.assignee !== undefined;
      if (moved) await trx.updateTable('alerts').set(changes).where('id', '=', cur.id).execute();
      const noteUuid = t.note === undefined ? null : randomUUID();
      if (t.note !== undefined) {
        await trx.insertInto('alert_notes').values({ note_uuid: noteUuid!, alert_uuid: cur.alert_uuid, author: actor, text: t.note, hlc, created_at: now }).execute();
      }
      // The edit as federation peers will see it: what it changed and which state it was made on.
      await trx.insertInto('triage_log').values({
        edit_id: randomUUID(), alert_uuid: cur.alert_uuid, status: t.status ?? null, assignee: t.assignee ?? null,
        assignee_set: t.assignee === undefined ? 0 : 1, note_uuid: noteUuid, note_text: t.note ?? null, author: actor, hlc,
        base_hlcs: JSON.stringify(cur.triage_hlc === null ? [] : [cur.triage_hlc]), origin_center: node, at: now, logged_at: Date.now(),
      }).execute();
      const after = (await trx.selectFrom('alerts').selectAll().where('id', '=', cur.id).executeTakeFirstOrThrow()) as AlertRecord;
      return { ok: true, alert: after } as const;
    });
  }

  async hosts(): Promise<CenterTables['identities'][]> {
    return this.db.selectFrom('identities').selectAll().where('role', 'in', ['agent', 'center']).orderBy('name').execute();
  }

  // ---- authored objects (rules, indicator sets, config) ----

  /** Creates or replaces an authored object; every change takes a new global revision (the pull cursor). */
  async putObject(o: { kind: string; object_id: string; body: string; deleted: boolean; author: string; origin: string; now: number; version?: number }): Promise<CenterTables['authored_objects']> {
    return this.db.transaction().execute(async (trx) => {
      const { revision } = await trx.insertInto('object_revisions').values({ kind: o.kind, object_id: o.object_id }).returning('revision').executeTakeFirstOrThrow();
      const prev = await trx.selectFrom('authored_objects').select('version').where('kind', '=', o.kind).where('object_id', '=', o.object_id).executeTakeFirst();
      const row = {
        kind: o.kind, object_id: o.object_id, revision: Number(revision), version: o.version ?? (prev?.version ?? 0) + 1,
        body: o.body, deleted: o.deleted ? 1 : 0, updated_at: o.now, author: o.author, origin: o.origin,
      };
      await trx.insertInto('authored_objects').values(row).onConflict((oc) => oc.columns(['kind', 'object_id']).doUpdateSet({
        revision: row.revision, version: row.version, body: row.body, deleted: row.deleted, updated_at: row.updated_at, author: row.author, origin: row.origin,
      })).execute();
      return row;
    });
  }

  async latestRevision(): Promise<number> {
    const r = await this.db.selectFrom('authored_objects').select((eb) => eb.fn.max('revision').as('r')).executeTakeFirst();
    return Number(r?.r ?? 0);
  }

  async objectsSince(revision: number, limit: number, kind?: string): Promise<CenterTables['authored_objects'][]> {
    let q = this.db.selectFrom('authored_objects').selectAll().where('revision', '>', revision);
    if (kind !== undefined) q = q.where('kind', '=', kind);
    return q.orderBy('revision').limit(limit).execute();
  }

  // ---- refusals ----

  async refusal(r: Omit<CenterTables['refusals'], 'id'>): Promise<void> {
    await this.db.insertInto('refusals').values(r).execute();
  }

  async refusals(limit: number) {
    return this.db.selectFrom('refusals').selectAll().orderBy('id', 'desc').limit(limit).execute();
  }
}

/** Reads the alert for update: PostgreSQL row lock; SQLite's write transaction already serialises. */
export async function lockAlert(trx: Transaction<CenterTables>, ref: string): Promise<AlertRecord | undefined> {
  const byId = /^\d{1,15}$/.test(ref);
  let q = trx.selectFrom('alerts').selectAll().where(byId ? 'id' : 'alert_uuid', '=', byId ? Number(ref) : ref);
  if (trx.getExecutor().adapter.supportsReturning && isPostgres(trx)) q = q.forUpdate();
  return q.executeTakeFirst() as Promise<AlertRecord | undefined>;
}

function isPostgres(trx: Transaction<CenterTables>): boolean {
  return trx.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export function alertRow(a: AlertInput, origin: string, centerId: string, now: number): Omit<CenterTables['alerts'], 'id'> {
  return {
    origin, origin_seq: a.alert_id, alert_uuid: a.alert_uuid, center_id: centerId,
    rule_id: a.rule_id, rule_name: a.rule_name, severity: a.severity, host: a.host, summary: a.summary,
    first_seen: Date.parse(a.first_seen), received_at: now, body: JSON.stringify(a),
    status: 'open', assignee: null, triage_version: 0, triage_hlc: null, triage_by: null,
  };
}
