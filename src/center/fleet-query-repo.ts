// Fleet queries at a center: asked by an analyst (or received from the primary), handed to agents
// with their heartbeat, answered once per agent, merged with a completeness verdict. Regions relay
// queries down and answers up (src/federation/); every write is idempotent by (query, agent).
import type { CenterDb } from './db/open-center-db.ts';
import type { CenterTables } from './db/center-schema.ts';

export type FleetQuery = Omit<CenterTables['fleet_queries'], 'seq'>;
export type FleetAnswer = Omit<CenterTables['fleet_query_results'], 'seq' | 'logged_at'>;

/** Agents seen within three heartbeats are expected to answer. */
export const ALIVE_MS = 90_000;

export class FleetQueryRepo {
  readonly db: CenterDb;
  constructor(db: CenterDb) {
    this.db = db;
  }

  async aliveAgents(now: number): Promise<string[]> {
    const rows = await this.db.selectFrom('identities').select('id').where('role', '=', 'agent').where('last_seen_at', '>', now - ALIVE_MS).execute();
    return rows.map((r) => r.id);
  }

  async create(q: FleetQuery): Promise<boolean> {
    const r = await this.db.insertInto('fleet_queries').values(q).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async query(id: string) {
    return this.db.selectFrom('fleet_queries').selectAll().where('query_id', '=', id).executeTakeFirst();
  }

  /** Queries still open that this agent has not answered. */
  async pendingFor(agentId: string, now: number): Promise<{ query_id: string; sql: string; deadline: number }[]> {
    return this.db.selectFrom('fleet_queries').select(['query_id', 'sql', 'deadline']).where('deadline', '>', now)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('fleet_query_results as r').select('r.query_id')
        .whereRef('r.query_id', '=', 'fleet_queries.query_id').where('r.agent_id', '=', agentId))))
      .orderBy('seq').limit(20).execute();
  }

  async storeAnswers(answers: readonly FleetAnswer[]): Promise<number> {
    if (answers.length === 0) return 0;
    const now = Date.now();
    const r = await this.db.insertInto('fleet_query_results').values(answers.map((a) => ({ ...a, logged_at: now })))
      .onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n);
  }

  async answers(queryId: string) {
    return this.db.selectFrom('fleet_query_results').selectAll().where('query_id', '=', queryId).orderBy('seq').execute();
  }

  async queriesAfter(seq: number, limit: number) {
    return this.db.selectFrom('fleet_queries').selectAll().where('seq', '>', seq).orderBy('seq').limit(limit).execute();
  }

  async answersAfter(seq: number, limit: number, now: number, settleMs: number, postgres: boolean) {
    let q = this.db.selectFrom('fleet_query_results').selectAll().where('seq', '>', seq);
    if (postgres) q = q.where('logged_at', '<=', now - settleMs);
    return q.orderBy('seq').limit(limit).execute();
  }
}
