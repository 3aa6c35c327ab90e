// Fleet queries: an analyst asks every agent a read-only SQL question over its own store (the
// tables of docs/schema.md, the same guard rails as rules); agents take it with their heartbeat,
// run it in a sandbox with a time budget and post their rows. The answer is merged per agent and
// marked partial when the deadline passed before every agent alive at asking time answered.
// Through federation, a query asked at the primary reaches the regions' agents too.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CenterContext } from '../center-context.ts';
import { FleetQueryRepo } from '../fleet-query-repo.ts';
import { validateSelect } from '../../detect/sql/validate-sql.ts';
import { createRuleContext } from '../../detect/sql/rule-context.ts';
import { CURSOR_START } from '../../detect/detector.ts';
import { openMemoryStore, type Db } from '../../store/open-store.ts';

const askInput = z.strictObject({ sql: z.string().min(1).max(16_384), timeout_s: z.number().int().min(5).max(3600).default(120) });
export const MAX_ROWS_PER_AGENT = 1000;
export const answerInput = z.strictObject({
  agent_id: z.string().max(64),
  host: z.string().max(255),
  rows: z.array(z.record(z.string(), z.unknown())).max(MAX_ROWS_PER_AGENT),
  truncated: z.boolean(),
  error: z.string().max(4096).nullable(),
});

/** An empty store with the agents' schema, to refuse a bad query at the center rather than on every agent. */
let schemaDb: Db | null = null;
function checkSql(sql: string): string | null {
  schemaDb ??= openMemoryStore();
  try {
    createRuleContext(schemaDb)(CURSOR_START);
    validateSelect(schemaDb, sql, 'DE_QUERY_INVALID');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export function queryRoutes(app: FastifyInstance, ctx: CenterContext): void {
  const repo = new FleetQueryRepo(ctx.repo.db);

  app.post('/api/v1/queries', { config: { roles: ['analyst'] }, bodyLimit: 64 * 1024 }, async (req, reply) => {
    const b = askInput.safeParse(req.body);
    if (!b.success) return reply.code(400).send({ code: 'DE_USAGE', message: b.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const bad = checkSql(b.data.sql);
    if (bad !== null) return reply.code(400).send({ code: 'DE_QUERY_INVALID', message: bad });
    const now = Date.now();
    const expected = await repo.aliveAgents(now);
    const q = { query_id: randomUUID(), sql: b.data.sql, created_at: now, deadline: now + b.data.timeout_s * 1000, author: req.caller!.id, origin_center: ctx.centerId, expected: JSON.stringify(expected) };
    await repo.create(q);
    return reply.code(201).send({ query_id: q.query_id, expected_agents: expected.length, deadline: new Date(q.deadline).toISOString() });
  });

  app.get<{ Params: { id: string } }>('/api/v1/queries/:id', { config: { roles: ['analyst'] } }, async (req, reply) => {
    const q = await repo.query(req.params.id);
    if (q === undefined) return reply.code(404).send({ code: 'DE_USAGE', message: `no query ${req.params.id}` });
    const answers = await repo.answers(q.query_id);
    const expected = JSON.parse(q.expected) as string[];
    const answered = new Set(answers.map((a) => a.agent_id));
    const missing = expected.filter((id) => !answered.has(id));
    const state = missing.length === 0 ? 'complete' : Date.now() > q.deadline ? 'partial' : 'running';
    return {
      query_id: q.query_id, sql: q.sql, asked_at: new Date(q.created_at).toISOString(), deadline: new Date(q.deadline).toISOString(),
      state, partial: state === 'partial', expected_agents: expected.length, answered_agents: answered.size, missing_agents: missing,
      answers: answers.map((a) => ({
        agent_id: a.agent_id, host: a.host, center_id: a.center_id, row_count: a.row_count, truncated: a.truncated === 1,
        error: a.error, rows: JSON.parse(a.rows) as unknown[],
      })),
    };
  });

  app.post<{ Params: { id: string } }>('/api/v1/queries/:id/results', { config: { roles: ['agent'] }, bodyLimit: 8 * 1024 * 1024 }, async (req, reply) => {
    const b = answerInput.safeParse(req.body);
    if (!b.success) return ctx.refusals.refuse(req, reply, 400, 'malformed_query_answer', b.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    if (b.data.agent_id !== req.caller!.id) return ctx.refusals.refuse(req, reply, 403, 'identity_claim_mismatch', `certificate of ${req.caller!.id} answered as ${b.data.agent_id}`);
    if ((await repo.query(req.params.id)) === undefined) return reply.code(404).send({ code: 'DE_USAGE', message: `no query ${req.params.id}` });
    const stored = await repo.storeAnswers([{
      query_id: req.params.id, agent_id: req.caller!.id, center_id: ctx.centerId, host: b.data.host, rows: JSON.stringify(b.data.rows),
      row_count: b.data.rows.length, truncated: b.data.truncated ? 1 : 0, error: b.data.error, answered_at: Date.now(),
    }]);
    return { stored };
  });
}
