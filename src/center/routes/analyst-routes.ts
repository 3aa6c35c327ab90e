// The analysts' API: alerts across the fleet (filter, search, triage), hosts and their health,
// authored objects (rules, indicator sets, config), refusals, revocation.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CenterContext } from '../center-context.ts';
import { CLOSED_STATUSES, TRIAGE_STATUSES, triageInput } from '../alert-input.ts';
import type { AlertRecord } from '../center-repo.ts';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];
export const OBJECT_KINDS = ['rule', 'indicator_set', 'config'] as const;

const listQuery = z.object({
  status: z.enum(TRIAGE_STATUSES).optional(),
  severity: z.enum(['low', 'medium', 'high', 'critical']).optional(),
  rule_id: z.string().max(200).optional(),
  host: z.string().max(255).optional(),
  origin: z.string().max(64).optional(),
  assignee: z.string().max(200).optional(),
  q: z.string().max(200).optional(),
  since: z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 time').optional(),
  before_id: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});

export function alertView(a: AlertRecord) {
  return {
    id: a.id, alert_uuid: a.alert_uuid, origin: a.origin, origin_seq: a.origin_seq, center_id: a.center_id,
    rule_id: a.rule_id, rule_name: a.rule_name, severity: a.severity, host: a.host, summary: a.summary,
    first_seen: new Date(a.first_seen).toISOString(), received_at: new Date(a.received_at).toISOString(),
    status: a.status, assignee: a.assignee, triage_version: a.triage_version, triage_hlc: a.triage_hlc, triage_by: a.triage_by,
  };
}

export function analystRoutes(app: FastifyInstance, ctx: CenterContext): void {
  const analyst = { config: { roles: ['analyst'] as const } };

  app.get('/api/v1/alerts', analyst, async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return reply.code(400).send({ code: 'DE_USAGE', message: q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const f = q.data;
    const severity = f.severity === undefined ? undefined : SEVERITIES.slice(SEVERITIES.indexOf(f.severity));
    const rows = await ctx.repo.listAlerts({ ...f, severity, since: f.since === undefined ? undefined : Date.parse(f.since) });
    return { alerts: rows.map(alertView), next_before_id: rows.length === f.limit ? rows[rows.length - 1]!.id : null };
  });

  app.get<{ Params: { ref: string } }>('/api/v1/alerts/:ref', analyst, async (req, reply) => {
    const a = await ctx.repo.alert(req.params.ref);
    if (a === undefined) return reply.code(404).send({ code: 'DE_USAGE', message: `no alert ${req.params.ref}` });
    return { ...alertView(a), alert: JSON.parse(a.body) as unknown, notes: await ctx.repo.notes(a.alert_uuid) };
  });

  app.patch<{ Params: { ref: string } }>('/api/v1/alerts/:ref', { ...analyst, bodyLimit: 64 * 1024 }, async (req, reply) => {
    const t = triageInput.safeParse(req.body);
    if (!t.success) return reply.code(400).send({ code: 'DE_USAGE', message: t.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const r = await ctx.repo.triage(req.params.ref, t.data, req.caller!.id, ctx.centerId, await ctx.repo.hlcNow());
    if (!r.ok && r.reason === 'not_found') return reply.code(404).send({ code: 'DE_USAGE', message: `no alert ${req.params.ref}` });
    if (!r.ok) return reply.code(409).send({ code: 'DE_USAGE', message: 'the alert changed since you read it', current: alertView(r.current!) });
    return alertView(r.alert);
  });

  app.get('/api/v1/hosts', analyst, async () => {
    const now = Date.now();
    return {
      hosts: (await ctx.repo.hosts()).map((h) => ({
        id: h.id, role: h.role, name: h.name, center_id: h.center_id, version: h.version,
        enrolled_at: new Date(h.enrolled_at).toISOString(), last_seen_at: h.last_seen_at === null ? null : new Date(h.last_seen_at).toISOString(),
        // Three missed 30-second heartbeats: stale.
        state: h.last_seen_at === null ? 'never_seen' : now - h.last_seen_at > 90_000 ? 'stale' : 'ok',
        outbox_pending: h.outbox_pending, shed_alerts: h.shed_alerts, health: h.health === null ? null : JSON.parse(h.health) as unknown,
      })),
    };
  });

  app.get('/api/v1/rules', analyst, async () => {
    const rows = await ctx.repo.objectsSince(0, 10_000, 'rule');
    return { rules: rows.filter((r) => r.deleted === 0).map((r) => ({ id: r.object_id, version: r.version, revision: r.revision, author: r.author, updated_at: new Date(r.updated_at).toISOString(), body: JSON.parse(r.body) as unknown })) };
  });

  const objectBody = z.strictObject({ body: z.unknown(), deleted: z.boolean().default(false) });
  app.put<{ Params: { kind: string; id: string } }>('/api/v1/objects/:kind/:id', { ...analyst, bodyLimit: 4 * 1024 * 1024 }, async (req, reply) => {
    if (!(OBJECT_KINDS as readonly string[]).includes(req.params.kind)) return reply.code(400).send({ code: 'DE_USAGE', message: `kind must be one of ${OBJECT_KINDS.join(', ')}` });
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(req.params.id)) return reply.code(400).send({ code: 'DE_USAGE', message: 'object ids are letters, digits, _ . - (at most 128)' });
    if (ctx.isRegional) return reply.code(409).send({ code: 'DE_USAGE', message: 'this is a regional center: author objects at the primary (they are pulled from there)' });
    const b = objectBody.safeParse(req.body);
    if (!b.success || b.data.body === undefined) return reply.code(400).send({ code: 'DE_USAGE', message: 'body: {"body": <the object>, "deleted"?: bool}' });
    const row = await ctx.repo.putObject({ kind: req.params.kind, object_id: req.params.id, body: JSON.stringify(b.data.body), deleted: b.data.deleted, author: req.caller!.id, origin: ctx.centerId, now: Date.now() });
    return { kind: row.kind, id: row.object_id, version: row.version, revision: row.revision };
  });

  app.get<{ Querystring: { limit?: string } }>('/api/v1/refusals', analyst, async (req) => ({
    refusals: (await ctx.repo.refusals(Math.min(1000, Number(req.query.limit ?? 100) || 100))).map((r) => ({ ...r, at: new Date(r.at).toISOString() })),
  }));

  app.post<{ Params: { id: string } }>('/api/v1/identities/:id/revoke', { ...analyst, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const reason = (req.body as { reason?: unknown } | null)?.reason;
    const n = await ctx.repo.revokeIdentity(req.params.id, typeof reason === 'string' ? reason.slice(0, 500) : 'revoked by analyst', Date.now());
    if (n === 0) return reply.code(404).send({ code: 'DE_USAGE', message: `no valid certificate of ${req.params.id}` });
    ctx.log.warn('identity revoked', { id: req.params.id, by: req.caller!.id, certificates: n });
    return { revoked_certificates: n };
  });
  void CLOSED_STATUSES;
}
