// The federation endpoints. At the primary: regions push alerts, triage edits and host inventory
// (center role) and pull the primary's triage log. At every center: status and the conflict queue
// (analyst role); at a regional center: "sync now".
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CenterContext } from '../center/center-context.ts';
import { FederationRepo, type ApplyOutcome } from './federation-repo.ts';
import { triageEditSchema } from './triage-edit.ts';
import type { FederationSync } from './federation-sync.ts';
import { FleetQueryRepo } from '../center/fleet-query-repo.ts';

const federatedAlert = z.strictObject({
  origin: z.string().min(1).max(64), origin_seq: z.number().int().min(0), alert_uuid: z.uuid(), center_id: z.string().max(64),
  rule_id: z.string().max(200), rule_name: z.string().max(500), severity: z.enum(['low', 'medium', 'high', 'critical']),
  host: z.string().max(255), summary: z.string().max(4096), first_seen: z.number().int(), received_at: z.number().int(),
  body: z.string().max(1024 * 1024),
  status: z.string().max(32), assignee: z.string().max(200).nullable(), triage_version: z.number().int(),
  triage_hlc: z.string().max(100).nullable(), triage_by: z.string().max(200).nullable(),
});
const host = z.strictObject({
  id: z.string().max(64), role: z.literal('agent'), name: z.string().max(255), enrolled_at: z.number().int(),
  last_seen_at: z.number().int().nullable(), health: z.string().max(256 * 1024).nullable(), version: z.string().max(64).nullable(),
  outbox_pending: z.number().int(), shed_alerts: z.number().int(), center_id: z.string().max(64),
});
const answer = z.strictObject({
  query_id: z.uuid(), agent_id: z.string().max(64), center_id: z.string().max(64), host: z.string().max(255),
  rows: z.string().max(8 * 1024 * 1024), row_count: z.number().int().min(0), truncated: z.number().int().min(0).max(1),
  error: z.string().max(4096).nullable(), answered_at: z.number().int(),
});
export const pushInput = z.strictObject({
  now: z.number().int(),
  alerts: z.array(federatedAlert).max(10_000),
  edits: z.array(triageEditSchema).max(10_000),
  hosts: z.array(host).max(100_000),
  /** Regions' agents' answers to fleet queries asked here. */
  answers: z.array(answer).max(10_000).default([]),
});
export type PushInput = z.input<typeof pushInput>;

export interface PushAnswer {
  readonly now: number;
  readonly stored_alerts: number;
  /** Edits processed in order; the region's cursor moves past these only. */
  readonly edits_processed: number;
  readonly outcomes: Partial<Record<ApplyOutcome, number>>;
}

export function federationRoutes(sync: () => FederationSync | null) {
  return (app: FastifyInstance, ctx: CenterContext): void => {
    const fed = new FederationRepo(ctx.repo.db, ctx.engine);
    const queries = new FleetQueryRepo(ctx.repo.db);

    app.post('/api/v1/federation/push', { config: { roles: ['center'] } }, async (req, reply) => {
      const parsed = pushInput.safeParse(req.body);
      if (!parsed.success) {
        return ctx.refusals.refuse(req, reply, 400, 'malformed_federation_push', parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      }
      const region = req.caller!.id;
      const p = parsed.data;
      const stored = await fed.storeAlerts(region, p.alerts.map((a) => ({ ...a, center_id: region })), Date.now());
      await fed.storeHosts(region, p.hosts.map(({ center_id: _ignored, ...h }) => h));
      await queries.storeAnswers(p.answers.map((a) => ({ ...a, center_id: region })));
      const outcomes: Partial<Record<ApplyOutcome, number>> = {};
      let processed = 0;
      for (const e of p.edits) {
        const o = await fed.applyEdit(e, { policy: ctx.conflictPolicy, localIsPrimary: true, fromPrimary: false });
        // An edit about an alert not here yet waits for the next round (its alert comes first).
        if (o === 'missing') break;
        outcomes[o] = (outcomes[o] ?? 0) + 1;
        processed++;
      }
      await ctx.repo.db.updateTable('identities').set({ last_seen_at: Date.now() }).where('id', '=', region).execute();
      const answer: PushAnswer = { now: Date.now(), stored_alerts: stored, edits_processed: processed, outcomes };
      return answer;
    });

    app.get<{ Querystring: { since?: string; limit?: string } }>('/api/v1/federation/triage', { config: { roles: ['center'] } }, async (req) => {
      const since = Math.max(0, Number(req.query.since ?? 0) || 0);
      const limit = Math.min(10_000, Math.max(1, Number(req.query.limit ?? 1000) || 1000));
      const rows = await fed.editsAfter(since, limit, Date.now(), SETTLE_MS);
      return { edits: rows.map((r) => r.edit), next_since: rows.length > 0 ? rows[rows.length - 1]!.seq : since, more: rows.length === limit, now: Date.now() };
    });

    app.get<{ Querystring: { since?: string; limit?: string } }>('/api/v1/federation/queries', { config: { roles: ['center'] } }, async (req) => {
      const since = Math.max(0, Number(req.query.since ?? 0) || 0);
      const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 100) || 100));
      const rows = await queries.queriesAfter(since, limit);
      return { queries: rows.map(({ seq: _seq, expected: _expected, ...q }) => q), next_since: rows.length > 0 ? rows[rows.length - 1]!.seq : since, more: rows.length === limit };
    });

    app.get('/api/v1/federation/status', { config: { roles: ['analyst'] } }, async () => {
      const last = await ctx.repo.getMeta('federation_last_sync');
      const peers = await ctx.repo.db.selectFrom('identities').selectAll().where('role', '=', 'center').execute();
      return {
        center_id: ctx.centerId, role: ctx.isRegional ? 'regional' : 'primary', policy: ctx.conflictPolicy,
        clock_offset_ms: Number((await ctx.repo.getMeta('clock_offset_ms')) ?? 0),
        last_sync: last === undefined ? null : JSON.parse(last) as unknown,
        cursors: await fed.cursors(),
        regions: peers.map((p) => ({ id: p.id, name: p.name, last_seen_at: p.last_seen_at === null ? null : new Date(p.last_seen_at).toISOString() })),
        alerts_by_center: await fed.countAlertsByCenter(),
        open_conflicts: (await fed.conflicts(true)).length,
      };
    });

    app.get<{ Querystring: { all?: string } }>('/api/v1/federation/conflicts', { config: { roles: ['analyst'] } }, async (req) => ({
      conflicts: (await fed.conflicts(req.query.all !== 'true')).map((c) => ({ ...c, local: JSON.parse(c.local) as unknown, remote: JSON.parse(c.remote) as unknown })),
    }));

    const resolveInput = z.strictObject({ keep: z.enum(['local', 'remote']) });
    app.post<{ Params: { id: string } }>('/api/v1/federation/conflicts/:id/resolve', { config: { roles: ['analyst'] }, bodyLimit: 4096 }, async (req, reply) => {
      const b = resolveInput.safeParse(req.body);
      if (!b.success) return reply.code(400).send({ code: 'DE_USAGE', message: 'body: {"keep": "local" | "remote"}' });
      const r = await fed.resolveConflict(Number(req.params.id), b.data.keep, req.caller!.id, ctx.centerId, await ctx.repo.hlcNow());
      if (r === 'not_found') return reply.code(404).send({ code: 'DE_FED_CONFLICT', message: `no open conflict ${req.params.id}` });
      return { resolved: Number(req.params.id), kept: b.data.keep };
    });

    app.post('/api/v1/federation/sync', { config: { roles: ['analyst'] } }, async (_req, reply) => {
      const s = sync();
      if (s === null) return reply.code(409).send({ code: 'DE_FED_CONFIG', message: 'this center is not a regional center (no primary to sync with)' });
      return s.round();
    });
  };
}

/** Rows younger than this are left for the next round on PostgreSQL (see FederationRepo.alertsAfter). */
export const SETTLE_MS = 2_000;
