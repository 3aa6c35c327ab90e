// Fleet-wide executable path rarity (issue 7, docs/analytics.md "Fleet rarity"). Agents post the
// executable paths their active model was trained on, as 64-bit SHA-256 prefixes (the center never
// sees a path), with on how many days and how many times each ran; a new report replaces the
// host's previous one. Agents then fetch the fleet view: per path hash, on how many OTHER hosts it
// ran (reports from the last FLEET_WINDOW_DAYS), the most widespread first, at most `limit`. All of
// it lives in the database (migration 004_fleet_paths), so center processes sharing one PostgreSQL
// serve the same view; the revision is a serial in that database.
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { CenterContext } from '../center-context.ts';

export const FLEET_WINDOW_DAYS = 14;
export const MAX_REPORT_PATHS = 5000;
export const MAX_VIEW_PATHS = 20_000;
const DEFAULT_VIEW_PATHS = 10_000;
/** 5 columns x 500 rows: far below SQLite's and PostgreSQL's bound-value limits. */
const CHUNK = 500;

const reportInput = z.strictObject({
  agent_id: z.string().max(64),
  window_days: z.number().int().min(1).max(366),
  paths: z.array(z.strictObject({
    h: z.string().regex(/^[0-9a-f]{16}$/, '16 lower-case hex digits (a SHA-256 prefix of the folded path)'),
    days: z.number().int().min(0).max(366),
    runs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  })).max(MAX_REPORT_PATHS),
});

interface FleetTables {
  fleet_path_hosts: { agent_id: string; path_hash: string; days: number; runs: number };
  fleet_path_reports: { agent_id: string; window_days: number; paths: number; reported_at: number; revision: number };
  fleet_path_log: { revision: number | undefined; agent_id: string; reported_at: number };
}

const issues = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
  e.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');

export function fleetPathRoutes(app: FastifyInstance, ctx: CenterContext): void {
  const db = ctx.repo.db as unknown as Kysely<FleetTables>;

  app.post('/api/v1/analytics/fleet-paths', { config: { roles: ['agent'] }, bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const parsed = reportInput.safeParse(req.body);
    if (!parsed.success) return ctx.refusals.refuse(req, reply, 400, 'malformed_fleet_paths', issues(parsed.error));
    const caller = req.caller!;
    if (parsed.data.agent_id !== caller.id) {
      return ctx.refusals.refuse(req, reply, 403, 'identity_claim_mismatch', `certificate of ${caller.id} posted as ${parsed.data.agent_id}`);
    }
    // One row per hash even if a client repeats one (the primary key would refuse the batch).
    const unique = new Map(parsed.data.paths.map((p) => [p.h, p]));
    const now = Date.now();
    const revision = await db.transaction().execute(async (trx) => {
      const logged = await trx.insertInto('fleet_path_log').values({ agent_id: caller.id, reported_at: now }).returning('revision').executeTakeFirstOrThrow();
      const rev = Number(logged.revision);
      await trx.deleteFrom('fleet_path_log').where('agent_id', '=', caller.id).where('revision', '<', rev).execute();
      await trx.deleteFrom('fleet_path_hosts').where('agent_id', '=', caller.id).execute();
      const rows = [...unique.values()].map((p) => ({ agent_id: caller.id, path_hash: p.h, days: p.days, runs: p.runs }));
      for (let i = 0; i < rows.length; i += CHUNK) await trx.insertInto('fleet_path_hosts').values(rows.slice(i, i + CHUNK)).execute();
      const report = { window_days: parsed.data.window_days, paths: rows.length, reported_at: now, revision: rev };
      await trx.insertInto('fleet_path_reports').values({ agent_id: caller.id, ...report })
        .onConflict((oc) => oc.column('agent_id').doUpdateSet(report)).execute();
      return rev;
    });
    return { stored: unique.size, revision };
  });

  app.get<{ Querystring: { since?: string; limit?: string } }>('/api/v1/analytics/fleet-paths', { config: { roles: ['agent', 'analyst'] } }, async (req) => {
    const since = Math.max(0, Number(req.query.since ?? 0) || 0);
    const limit = Math.min(MAX_VIEW_PATHS, Math.max(1, Number(req.query.limit ?? DEFAULT_VIEW_PATHS) || DEFAULT_VIEW_PATHS));
    const latest = await db.selectFrom('fleet_path_log').select(sql<number>`coalesce(max(revision), 0)`.as('r')).executeTakeFirstOrThrow();
    const revision = Number(latest.r);
    if (since >= revision) return { revision, changed: false };
    const self = req.caller!.id;
    const from = Date.now() - FLEET_WINDOW_DAYS * 86_400_000;
    const others = await db.selectFrom('fleet_path_reports').select([sql<number>`count(*)`.as('hosts'), sql<number>`coalesce(max(window_days), 0)`.as('window_days')])
      .where('reported_at', '>=', from).where('agent_id', '<>', self).executeTakeFirstOrThrow();
    const rows = await db.selectFrom('fleet_path_hosts as h').innerJoin('fleet_path_reports as r', 'r.agent_id', 'h.agent_id')
      .select(['h.path_hash as h', sql<number>`count(*)`.as('hosts')])
      .where('r.reported_at', '>=', from).where('h.agent_id', '<>', self)
      .groupBy('h.path_hash').orderBy('hosts', 'desc').orderBy('h.path_hash').limit(limit + 1).execute();
    const truncated = rows.length > limit;
    const paths = rows.slice(0, limit).map((r) => ({ h: r.h, hosts: Number(r.hosts) }));
    return {
      revision, changed: true, hosts: Number(others.hosts), window_days: Math.min(Number(others.window_days), FLEET_WINDOW_DAYS) || FLEET_WINDOW_DAYS,
      truncated, floor: truncated ? paths[paths.length - 1]!.hosts : 0, paths,
    };
  });
}
