// A running security center: fastify over HTTPS with client certificates requested (not required
// at the TLS layer, so enrolment can reach its two public endpoints; every other route refuses a
// request without a certificate this center issued and has not revoked: auth.ts).
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../agent/logger.ts';
import { VERSION } from '../version.ts';
import { authenticate, Refusals } from './auth.ts';
import type { CenterContext } from './center-context.ts';
import { loadCenterCa } from './center-ca.ts';
import { CenterRepo } from './center-repo.ts';
import { databaseLocation, readCenterSettings } from './center-settings.ts';
import { openCenterDb, type OpenedCenterDb } from './db/open-center-db.ts';
import { openApiDocument } from './openapi.ts';
import { analystRoutes } from './routes/analyst-routes.ts';
import { enrollRoutes } from './routes/enroll-routes.ts';
import { eventRoutes } from './routes/event-routes.ts';
import { fleetPathRoutes } from './routes/fleet-path-routes.ts';
import { ingestRoutes } from './routes/ingest-routes.ts';
import { queryRoutes } from './routes/query-routes.ts';
import { taxiiRoutes } from './routes/taxii.ts';
import { DaemonEyeError } from '../errors/catalogue.ts';

export interface CenterServerOptions {
  readonly dataDir: string;
  readonly listen?: string | undefined;
  readonly log: Logger;
  readonly conflictPolicy?: CenterContext['conflictPolicy'];
  readonly isRegional?: boolean;
  /** Extra routes (federation) registered on the same server. */
  readonly plugins?: readonly ((app: FastifyInstance, ctx: CenterContext) => void)[];
}

export interface RunningCenter {
  readonly app: FastifyInstance;
  /** Every route registered, as "METHOD /path" (the OpenAPI document is checked against it). */
  readonly routes: readonly string[];
  readonly ctx: CenterContext;
  readonly url: string;
  close(): Promise<void>;
}

/** Fastify's own refusals of a body (too large, not JSON, wrong type) are security events too. */
const BODY_ERRORS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_content_length',
};

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65_535) throw new DaemonEyeError('DE_CENTER_LISTEN', `--listen takes HOST:PORT, not "${listen}"`);
  return { host: m[1] || '0.0.0.0', port: Number(m[2]) };
}

export async function startCenter(o: CenterServerOptions): Promise<RunningCenter> {
  const settings = readCenterSettings(o.dataDir);
  const ca = await loadCenterCa(o.dataDir);
  const opened: OpenedCenterDb = await openCenterDb(databaseLocation(o.dataDir, settings));
  const repo = new CenterRepo(opened.db);
  const ctx: CenterContext = {
    centerId: settings.center_id, dataDir: o.dataDir, settings, engine: opened.engine, repo, ca, log: o.log,
    refusals: new Refusals(repo, o.log), conflictPolicy: o.conflictPolicy ?? 'primary_wins', isRegional: o.isRegional ?? false,
  };
  const app = Fastify({
    https: { key: ca.serverKeyPem, cert: ca.serverCertPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    bodyLimit: settings.max_body_bytes,
    logger: false,
    // The client certificate is checked per request, and a keep-alive connection keeps its certificate.
    keepAliveTimeout: 30_000,
  });
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
  });
  // JSON only: a text/plain body would otherwise reach the routes as a string.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', authenticate(repo, ctx.refusals));
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const reason = BODY_ERRORS[err.code];
    if (reason !== undefined) return ctx.refusals.refuse(req, reply, err.statusCode ?? 400, reason, err.message);
    if ((err.statusCode ?? 500) < 500) return reply.code(err.statusCode!).send({ code: 'DE_CENTER_REQUEST', message: err.message });
    o.log.error('request failed', { path: req.url.split('?')[0], reason: err.message });
    return reply.code(500).send({ code: 'DE_INTERNAL', message: 'the center failed to handle this request; see its log' });
  });
  app.get('/api/v1/openapi.json', async () => openApiDocument(VERSION));
  app.get('/healthz', async () => ({ ok: true, center_id: ctx.centerId }));
  enrollRoutes(app, ctx);
  ingestRoutes(app, ctx);
  analystRoutes(app, ctx);
  queryRoutes(app, ctx);
  fleetPathRoutes(app, ctx);
  eventRoutes(app, ctx);
  // TAXII 2.1 collections under /taxii2/ (indicators out, sightings in): docs/center.md.
  taxiiRoutes(app, ctx);
  for (const p of o.plugins ?? []) p(app, ctx);
  const { host, port } = parseListen(o.listen ?? settings.listen);
  try {
    await app.listen({ host, port });
  } catch (e) {
    await opened.close();
    throw new DaemonEyeError('DE_CENTER_LISTEN', `cannot listen on ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  const url = `https://${host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  return {
    app, ctx, url, routes,
    close: async () => {
      await app.close();
      await opened.close();
    },
  };
}
