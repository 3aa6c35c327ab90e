// Detection-relevant events agents push after each heartbeat (process_exec, network_connections,
// process_security_events, dns_queries, tls_handshakes rows of their stores), and the analysts'
// read of them. Every write is one statement against the database (the unique (agent_id, kind,
// source_id) makes a retried batch idempotent; the per-agent rate is counted from stored rows;
// retention is one DELETE), so several center processes sharing one PostgreSQL agree.
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import type { CenterContext } from '../center-context.ts';
import type { CenterDb } from '../db/open-center-db.ts';

/** SQLite allows 32,766 bound values per statement; 7 columns x 500 rows stays well below. */
const INSERT_CHUNK = 500;
/** How often a center process sweeps expired events (and once at start). */
const SWEEP_MS = 3_600_000;
const DAY_MS = 86_400_000;

const issues = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
  e.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');

const eventInput = z.strictObject({
  kind: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
  source_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  time: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  body: z.record(z.string(), z.unknown()),
});
const eventBatch = (max: number) => z.strictObject({
  agent_id: z.string().min(1).max(64),
  host: z.string().max(255),
  events: z.array(eventInput).max(max),
});

const listQuery = z.object({
  host: z.string().max(255).optional(),
  agent: z.string().max(64).optional(),
  kind: z.string().max(64).optional(),
  since: z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 time').optional(),
  before_id: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

/** Deletes events whose time is older than the retention; returns how many went. */
export async function sweepEvents(db: CenterDb, retentionDays: number, now: number): Promise<number> {
  const r = await db.deleteFrom('events').where('time', '<', now - retentionDays * DAY_MS).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export function eventRoutes(app: FastifyInstance, ctx: CenterContext): void {
  const db = ctx.repo.db;
  const batch = eventBatch(ctx.settings.max_events_per_request);
  const retention = ctx.settings.events_retention_days;

  const sweep = async () => {
    try {
      const n = await sweepEvents(db, retention, Date.now());
      if (n > 0) ctx.log.info('expired events deleted', { deleted: n, retention_days: retention });
    } catch (e) {
      ctx.log.warn('event retention sweep failed', { reason: (e as Error).message });
    }
  };
  let timer: NodeJS.Timeout | null = null;
  let first: Promise<void> = Promise.resolve();
  app.addHook('onReady', async () => {
    first = sweep();
    await first;
    timer = setInterval(() => void sweep(), SWEEP_MS);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    if (timer !== null) clearInterval(timer);
    await first;
  });

  app.post('/api/v1/events', { config: { roles: ['agent'] } }, async (req, reply) => {
    const parsed = batch.safeParse(req.body);
    if (!parsed.success) return ctx.refusals.refuse(req, reply, 400, 'malformed_events', issues(parsed.error));
    const caller = req.caller!;
    if (parsed.data.agent_id !== caller.id) {
      return ctx.refusals.refuse(req, reply, 403, 'identity_claim_mismatch', `certificate of ${caller.id} posted as ${parsed.data.agent_id}`);
    }
    const now = Date.now();
    // Events already past retention would be deleted by the next sweep: not stored, but acknowledged.
    const fresh = parsed.data.events.filter((e) => e.time >= now - retention * DAY_MS);
    const recent = await db.selectFrom('events').select(sql<number>`count(*)`.as('n'))
      .where('agent_id', '=', caller.id).where('received_at', '>', now - 60_000).executeTakeFirstOrThrow();
    if (Number(recent.n) + fresh.length > ctx.settings.max_events_per_minute) {
      await ctx.refusals.record(req, 'event_rate_limited', `${caller.id}: ${Number(recent.n)} stored in the last minute, ${fresh.length} more offered, limit ${ctx.settings.max_events_per_minute}`);
      return reply.code(429).header('retry-after', '60').send({ code: 'DE_CENTER_REQUEST', reason: 'event_rate_limited', message: 'too many events from this agent in the last minute; send them later' });
    }
    let stored = 0;
    const host = parsed.data.host;
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
        const rows = fresh.slice(i, i + INSERT_CHUNK).map((e) => ({
          agent_id: caller.id, kind: e.kind, source_id: e.source_id, time: e.time, host, body: JSON.stringify(e.body), received_at: now,
        }));
        const r = await trx.insertInto('events').values(rows).onConflict((oc) => oc.columns(['agent_id', 'kind', 'source_id']).doNothing()).executeTakeFirst();
        stored += Number(r.numInsertedOrUpdatedRows ?? 0);
      }
    });
    return reply.code(200).send({ accepted: parsed.data.events.length, stored, duplicates: fresh.length - stored, expired: parsed.data.events.length - fresh.length });
  });

  app.get('/api/v1/events', { config: { roles: ['analyst'] } }, async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return reply.code(400).send({ code: 'DE_USAGE', message: issues(q.error) });
    const f = q.data;
    let query = db.selectFrom('events').selectAll();
    if (f.host !== undefined) query = query.where('host', '=', f.host);
    if (f.agent !== undefined) query = query.where('agent_id', '=', f.agent);
    if (f.kind !== undefined) query = query.where('kind', '=', f.kind);
    if (f.since !== undefined) query = query.where('time', '>=', Date.parse(f.since));
    if (f.before_id !== undefined) query = query.where('id', '<', f.before_id);
    const rows = await query.orderBy('id', 'desc').limit(f.limit).execute();
    return {
      events: rows.map((r) => ({
        id: Number(r.id), agent_id: r.agent_id, kind: r.kind, source_id: Number(r.source_id), time: new Date(Number(r.time)).toISOString(),
        host: r.host, received_at: new Date(Number(r.received_at)).toISOString(), body: JSON.parse(r.body) as unknown,
      })),
      next_before_id: rows.length === f.limit ? Number(rows[rows.length - 1]!.id) : null,
    };
  });
}
