// What agents push: alert batches (from their durable outbox) and heartbeats (health, outbox
// depth, shed counts, the latest signed audit checkpoint); and what they pull: authored objects.
// The caller's id comes from its certificate; a body naming another id is refused and logged.
import type { FastifyInstance } from 'fastify';
import type { CenterContext } from '../center-context.ts';
import { alertBatchInput, heartbeatInput } from '../alert-input.ts';
import { RevisionWatch } from '../revision-watch.ts';
import { FleetQueryRepo } from '../fleet-query-repo.ts';

const issues = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
  e.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');

export function ingestRoutes(app: FastifyInstance, ctx: CenterContext): void {
  const batch = alertBatchInput(ctx.settings.max_alerts_per_request);
  const queries = new FleetQueryRepo(ctx.repo.db);

  app.post('/api/v1/alerts', { config: { roles: ['agent'] } }, async (req, reply) => {
    const parsed = batch.safeParse(req.body);
    if (!parsed.success) return ctx.refusals.refuse(req, reply, 400, 'malformed_alerts', issues(parsed.error));
    const caller = req.caller!;
    if (parsed.data.agent_id !== caller.id) {
      return ctx.refusals.refuse(req, reply, 403, 'identity_claim_mismatch', `certificate of ${caller.id} posted as ${parsed.data.agent_id}`);
    }
    const r = await ctx.repo.ingestAlerts(ctx.centerId, caller.id, parsed.data.alerts, Date.now());
    return reply.code(200).send({ accepted: parsed.data.alerts.length, stored: r.inserted, duplicates: r.duplicates });
  });

  app.post('/api/v1/heartbeat', { config: { roles: ['agent', 'center'] }, bodyLimit: 256 * 1024 }, async (req, reply) => {
    const parsed = heartbeatInput.safeParse(req.body);
    if (!parsed.success) return ctx.refusals.refuse(req, reply, 400, 'malformed_heartbeat', issues(parsed.error));
    const caller = req.caller!;
    if (parsed.data.agent_id !== caller.id) {
      return ctx.refusals.refuse(req, reply, 403, 'identity_claim_mismatch', `certificate of ${caller.id} posted as ${parsed.data.agent_id}`);
    }
    await ctx.repo.heartbeat(caller.id, parsed.data, Date.now());
    const latest = await ctx.repo.latestRevision();
    // Fleet queries this agent has not answered ride on the heartbeat's answer.
    const pending = caller.role === 'agent' ? await queries.pendingFor(caller.id, Date.now()) : [];
    return { ok: true, objects_revision: latest, cert_not_after: new Date(caller.notAfter).toISOString(), queries: pending };
  });

  // Long poll: answers as soon as an authored object changes after `since` (or after `timeout` s).
  const watch = new RevisionWatch(ctx.repo);
  app.addHook('preClose', async () => watch.close()); // before the server waits for requests in flight
  app.get<{ Querystring: { since?: string; timeout?: string } }>('/api/v1/objects/changes', { config: { roles: ['agent', 'center', 'analyst'] } }, async (req) => {
    const since = Math.max(0, Number(req.query.since ?? 0) || 0);
    const timeoutS = Math.min(55, Math.max(1, Number(req.query.timeout ?? 25) || 25));
    return { revision: await watch.wait(since, timeoutS * 1000) };
  });

  app.get<{ Querystring: { since?: string; limit?: string; kind?: string } }>('/api/v1/objects', { config: { roles: ['agent', 'center', 'analyst'] } }, async (req) => {
    const since = Math.max(0, Number(req.query.since ?? 0) || 0);
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 500) || 500));
    const rows = await ctx.repo.objectsSince(since, limit, req.query.kind);
    return {
      objects: rows.map((r) => ({ ...r, deleted: r.deleted === 1, body: JSON.parse(r.body) as unknown })),
      next_since: rows.length > 0 ? rows[rows.length - 1]!.revision : since,
      more: rows.length === limit,
    };
  });
}
