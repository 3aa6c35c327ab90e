// Federation's reads and writes on a center's database: what a region pushes (alerts by arrival
// order, triage edits by log sequence, host inventory), what the primary stores from it
// (deduplicated by (origin, sequence) and edit id), per-peer cursors, and the merge of triage edits
// by the configured policy. Every method is one transaction, so a batch is applied whole or not
// at all and a cursor only moves past what is stored.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { CenterDb } from '../center/db/open-center-db.ts';
import type { CenterTables } from '../center/db/center-schema.ts';
import { lockAlert, type AlertRecord } from '../center/center-repo.ts';
import { CLOSED_STATUSES } from '../center/alert-input.ts';
import { compareHlc, tick } from '../center/hlc.ts';
import type { ConflictPolicy, TriageEdit } from './triage-edit.ts';

/** An alert as a region pushes it: the stored record without the region's local id. */
export type FederatedAlert = Omit<AlertRecord, 'id'>;

export type ApplyOutcome = 'applied' | 'duplicate' | 'superseded' | 'kept_local' | 'parked' | 'missing';

export interface ApplyContext {
  readonly policy: ConflictPolicy;
  /** True at the primary: its own state wins primary_wins conflicts. */
  readonly localIsPrimary: boolean;
  /** True when the edit came from the primary (a region pulling). */
  readonly fromPrimary: boolean;
}

const toEdit = (r: Omit<CenterTables['triage_log'], 'seq' | 'logged_at'>): TriageEdit => ({
  edit_id: r.edit_id, alert_uuid: r.alert_uuid, status: r.status as TriageEdit['status'], assignee: r.assignee,
  assignee_set: r.assignee_set === 1, note: r.note_uuid === null ? null : { note_uuid: r.note_uuid, text: r.note_text ?? '' },
  author: r.author, hlc: r.hlc, base_hlcs: JSON.parse(r.base_hlcs) as string[], origin_center: r.origin_center, at: r.at,
});

export class FederationRepo {
  readonly db: CenterDb;
  readonly #postgres: boolean;

  constructor(db: CenterDb, engine: 'sqlite' | 'postgres') {
    this.db = db;
    this.#postgres = engine === 'postgres';
  }

  async cursor(peer: string, stream: string): Promise<number> {
    const r = await this.db.selectFrom('federation_cursors').select('position').where('peer', '=', peer).where('stream', '=', stream).executeTakeFirst();
    return r?.position ?? 0;
  }

  async setCursor(peer: string, stream: string, position: number, now: number): Promise<void> {
    await this.db.insertInto('federation_cursors').values({ peer, stream, position, updated_at: now })
      .onConflict((oc) => oc.columns(['peer', 'stream']).doUpdateSet({ position, updated_at: now })).execute();
  }

  async cursors(): Promise<CenterTables['federation_cursors'][]> {
    return this.db.selectFrom('federation_cursors').selectAll().orderBy('peer').orderBy('stream').execute();
  }

  /**
   * Alerts that arrived after `afterId`, oldest first. On PostgreSQL, ids of concurrent transactions
   * can commit out of order, so rows younger than `settleMs` are left for the next round: a cursor
   * must never pass a row that is not visible yet.
   */
  async alertsAfter(afterId: number, limit: number, now: number, settleMs: number): Promise<AlertRecord[]> {
    let q = this.db.selectFrom('alerts').selectAll().where('id', '>', afterId);
    if (this.#postgres) q = q.where('received_at', '<=', now - settleMs);
    return q.orderBy('id').limit(limit).execute() as Promise<AlertRecord[]>;
  }

  /** Triage log entries after `afterSeq` (the same settle rule as alertsAfter on PostgreSQL). */
  async editsAfter(afterSeq: number, limit: number, now: number, settleMs: number): Promise<{ seq: number; edit: TriageEdit }[]> {
    let q = this.db.selectFrom('triage_log').selectAll().where('seq', '>', afterSeq);
    if (this.#postgres) q = q.where('logged_at', '<=', now - settleMs);
    const rows = await q.orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: r.seq, edit: toEdit(r) }));
  }

  async lastEditSeq(): Promise<number> {
    const r = await this.db.selectFrom('triage_log').select((eb) => eb.fn.max('seq').as('s')).executeTakeFirst();
    return Number(r?.s ?? 0);
  }

  /** Stores alerts pushed by a region, once each by (origin, sequence); the region is where they entered. */
  async storeAlerts(regionId: string, alerts: readonly FederatedAlert[], now: number): Promise<number> {
    if (alerts.length === 0) return 0;
    let inserted = 0;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < alerts.length; i += 400) {
        const rows = alerts.slice(i, i + 400).map((a) => ({
          ...a, center_id: a.center_id || regionId, received_at: now,
          // Triage state travels as edits (the log), never with the fact itself.
          status: 'open', assignee: null, triage_version: 0, triage_hlc: null, triage_by: null,
        }));
        const r = await trx.insertInto('alerts').values(rows).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        inserted += Number(r.numInsertedOrUpdatedRows ?? 0n);
      }
    });
    return inserted;
  }

  /** Host inventory from a region: its agents, their health and last contact. */
  async storeHosts(regionId: string, hosts: readonly Omit<CenterTables['identities'], 'center_id'>[]): Promise<void> {
    if (hosts.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const h of hosts) {
        await trx.insertInto('identities').values({ ...h, center_id: regionId }).onConflict((oc) => oc.column('id').doUpdateSet({
          last_seen_at: h.last_seen_at, health: h.health, version: h.version, outbox_pending: h.outbox_pending, shed_alerts: h.shed_alerts, name: h.name,
        })).execute();
      }
    });
  }

  async hostsSeenSince(since: number): Promise<CenterTables['identities'][]> {
    return this.db.selectFrom('identities').selectAll().where('role', '=', 'agent')
      .where((eb) => eb.or([eb('last_seen_at', '>', since), eb('enrolled_at', '>', since)])).execute();
  }

  /**
   * Applies a peer's triage edit. Causal edits (made on this alert's current state) apply; concurrent
   * ones follow the policy: primary_wins (the primary's state), timestamp_wins (the larger HLC
   * stamp), manual_review (both parked in triage_conflicts). Whatever the policy, a concurrent edit
   * that would reopen a closed alert is parked rather than applied. Applied edits enter this
   * center's log with their original id and stamp, so they travel on to other peers unchanged.
   */
  async applyEdit(e: TriageEdit, c: ApplyContext): Promise<ApplyOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const seen = await trx.selectFrom('triage_log').select('seq').where('edit_id', '=', e.edit_id).executeTakeFirst();
      if (seen) return 'duplicate';
      const parkedBefore = await trx.selectFrom('triage_conflicts').select('id').where('edit_id', '=', e.edit_id).executeTakeFirst();
      if (parkedBefore) return 'duplicate';
      const cur = await lockAlert(trx, e.alert_uuid);
      if (cur === undefined) return 'missing';
      if (e.note !== null) {
        await trx.insertInto('alert_notes').values({ note_uuid: e.note.note_uuid, alert_uuid: e.alert_uuid, author: e.author, text: e.note.text, hlc: e.hlc, created_at: e.at })
          .onConflict((oc) => oc.doNothing()).execute();
      }
      const changesState = e.status !== null || e.assignee_set;
      const log = () => trx.insertInto('triage_log').values({
        edit_id: e.edit_id, alert_uuid: e.alert_uuid, status: e.status, assignee: e.assignee, assignee_set: e.assignee_set ? 1 : 0,
        note_uuid: e.note?.note_uuid ?? null, note_text: e.note?.text ?? null, author: e.author, hlc: e.hlc,
        base_hlcs: JSON.stringify(e.base_hlcs), origin_center: e.origin_center, at: e.at, logged_at: Date.now(),
      }).execute();
      if (!changesState) {
        await log();
        return 'applied';
      }
      const local = cur.triage_hlc;
      if (local !== null && local === e.hlc) {
        await log();
        return 'duplicate';
      }
      if (local !== null && !e.base_hlcs.includes(local)) {
        // Is the incoming edit one that the local state already superseded?
        const localEdit = await trx.selectFrom('triage_log').select('base_hlcs').where('alert_uuid', '=', e.alert_uuid).where('hlc', '=', local).executeTakeFirst();
        if (localEdit && (JSON.parse(localEdit.base_hlcs) as string[]).includes(e.hlc)) return 'superseded';
      }
      const causal = local === null || e.base_hlcs.includes(local);
      let verdict: 'remote' | 'local' | 'park';
      if (causal) verdict = 'remote';
      else if (c.policy === 'manual_review') verdict = 'park';
      else if (c.policy === 'primary_wins' && c.localIsPrimary) verdict = 'local';
      else if (c.policy === 'primary_wins' && c.fromPrimary) verdict = 'remote';
      else verdict = compareHlc(e.hlc, local!) > 0 ? 'remote' : 'local';
      const reopens = CLOSED_STATUSES.has(cur.status) && e.status !== null && !CLOSED_STATUSES.has(e.status);
      if (!causal && verdict === 'remote' && reopens) verdict = 'park';
      if (verdict === 'park') {
        await trx.insertInto('triage_conflicts').values({
          alert_uuid: e.alert_uuid, edit_id: e.edit_id, created_at: Date.now(), resolved_at: null, resolution: null, resolved_by: null,
          local: JSON.stringify({ status: cur.status, assignee: cur.assignee, hlc: local, by: cur.triage_by }),
          remote: JSON.stringify(e),
        }).execute();
        return 'parked';
      }
      if (verdict === 'local') return 'kept_local';
      const set: { status?: string; assignee?: string | null; triage_version: number; triage_hlc: string; triage_by: string } = {
        triage_version: cur.triage_version + 1, triage_hlc: e.hlc, triage_by: e.author,
      };
      if (e.status !== null) set.status = e.status;
      if (e.assignee_set) set.assignee = e.assignee;
      await trx.updateTable('alerts').set(set).where('id', '=', cur.id).execute();
      // Conflicts parked here that this edit settles (it was made on both versions) are closed.
      await trx.updateTable('triage_conflicts').set({ resolved_at: Date.now(), resolution: 'superseded', resolved_by: e.author })
        .where('alert_uuid', '=', e.alert_uuid).where('resolved_at', 'is', null).execute();
      await log();
      return 'applied';
    });
  }

  async conflicts(openOnly: boolean) {
    let q = this.db.selectFrom('triage_conflicts').selectAll();
    if (openOnly) q = q.where('resolved_at', 'is', null);
    return q.orderBy('id').execute();
  }

  /**
   * An analyst settles a parked conflict: the chosen version becomes a new edit made on both
   * versions (its stamp above both), so every peer that parked or applied either one converges.
   */
  async resolveConflict(id: number, keep: 'local' | 'remote', who: string, node: string, now: number): Promise<'resolved' | 'not_found'> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('triage_conflicts').selectAll().where('id', '=', id).where('resolved_at', 'is', null).executeTakeFirst();
      if (row === undefined) return 'not_found';
      const cur = await lockAlert(trx, row.alert_uuid);
      if (cur === undefined) return 'not_found';
      const remote = JSON.parse(row.remote) as TriageEdit;
      const status = keep === 'remote' ? (remote.status ?? cur.status) : cur.status;
      const assignee = keep === 'remote' && remote.assignee_set ? remote.assignee : cur.assignee;
      const above = cur.triage_hlc === null || compareHlc(remote.hlc, cur.triage_hlc) > 0 ? remote.hlc : cur.triage_hlc;
      const hlc = tick(above, now, node);
      const bases = [...new Set([cur.triage_hlc, remote.hlc].filter((h): h is string => h !== null))];
      await trx.updateTable('alerts').set({ status, assignee, triage_version: cur.triage_version + 1, triage_hlc: hlc, triage_by: who }).where('id', '=', cur.id).execute();
      await trx.insertInto('triage_log').values({
        edit_id: randomUUID(), alert_uuid: row.alert_uuid, status, assignee, assignee_set: 1, note_uuid: null, note_text: null,
        author: who, hlc, base_hlcs: JSON.stringify(bases), origin_center: node, at: now, logged_at: Date.now(),
      }).execute();
      await trx.updateTable('triage_conflicts').set({ resolved_at: now, resolution: `kept_${keep}`, resolved_by: who })
        .where('alert_uuid', '=', row.alert_uuid).where('resolved_at', 'is', null).execute();
      return 'resolved';
    });
  }

  async countAlertsByCenter(): Promise<{ center_id: string; n: number }[]> {
    const rows = await this.db.selectFrom('alerts').select(['center_id', sql<number>`count(*)`.as('n')]).groupBy('center_id').execute();
    return rows.map((r) => ({ center_id: r.center_id, n: Number(r.n) }));
  }
}
