// A TAXII 2.1 server as a fastify plugin (OASIS TAXII 2.1 sections 4-5): discovery, API roots,
// collections, objects (GET with paging and match[] filters, POST envelopes), single objects,
// versions, manifests and status. The security center mounts it; tests mount it on loopback.
//
//   app.register(taxiiServer, { prefix: '/taxii', storage, apiRoots: [{ name: 'api1', title: '...' }] })
//
// Not wrapped with fastify-plugin on purpose: its hooks (Accept/Content-Type checks, auth) and its
// content-type parser stay inside this plugin's scope and do not touch the center's other routes.
// `next` tokens are stateless (the last date_added served + a hash of the filters), so they survive a
// restart and cannot be replayed against other filters.

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TAXII_MEDIA_TYPE, acceptsTaxii21, isTaxii21 } from '../media-type.ts';
import { parseBoundedJson } from '../bounded-json.ts';
import { formatStixMicros, parseStixTimeMicros } from '../stix-time.ts';
import type { CollectionRecord, ObjectQuery, StoredObject, TaxiiStorage } from './taxii-storage.ts';

export type Access = 'read' | 'write';

export interface TaxiiServerOptions {
  readonly storage: TaxiiStorage;
  readonly title?: string;
  readonly description?: string;
  readonly contact?: string;
  /** API roots, by path segment under the plugin's prefix. The first is the default. */
  readonly apiRoots: readonly { readonly name: string; readonly title: string; readonly description?: string }[];
  readonly defaultPageSize?: number;
  readonly maxPageSize?: number;
  /** Largest envelope accepted by POST (bytes), also announced as max_content_length. */
  readonly maxContentLength?: number;
  /** Who is asking: a principal name, or null for "not authenticated" (401). Default: anyone. */
  readonly authenticate?: (req: FastifyRequest) => string | null | Promise<string | null>;
  /** Whether the principal may read/write the collection (403 when not). Default: the collection's flags. */
  readonly permits?: (principal: string, access: Access, collection: CollectionRecord) => boolean;
}

interface Params { root: string; collectionId: string; objectId: string; statusId: string }
type Query = Record<string, string | string[] | undefined>;

const ID_LIST = /^[A-Za-z0-9_.:-]+(?:,[A-Za-z0-9_.:-]+)*$/;

export async function taxiiServer(app: FastifyInstance, opts: TaxiiServerOptions): Promise<void> {
  const storage = opts.storage;
  const maxPage = opts.maxPageSize ?? 1000;
  const defaultPage = Math.min(opts.defaultPageSize ?? 100, maxPage);
  const maxContent = opts.maxContentLength ?? 10 * 1024 * 1024;
  const roots = new Map(opts.apiRoots.map((r) => [r.name, r]));
  const principals = new WeakMap<FastifyRequest, string>();
  const permits = opts.permits ?? ((_p, access, c) => (access === 'read' ? c.canRead : c.canWrite));

  // Bodies are parsed only for the exact TAXII 2.1 media type; anything else was refused (415) in
  // onRequest. JSON nesting is bounded before JSON.parse sees it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxContent }, (_req, body, done) => {
    try {
      done(null, parseBoundedJson(body as string, 64));
    } catch (e) {
      done(Object.assign(new Error((e as Error).message), { statusCode: 400 }), undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!acceptsTaxii21(req.headers.accept)) {
      return fail(reply, 406, 'Not Acceptable', `Accept must include ${TAXII_MEDIA_TYPE}`);
    }
    if (req.method === 'POST' && !isTaxii21(req.headers['content-type'])) {
      return fail(reply, 415, 'Unsupported Media Type', `Content-Type must be ${TAXII_MEDIA_TYPE}`);
    }
    const who = opts.authenticate === undefined ? 'anonymous' : await opts.authenticate(req);
    if (who === null) {
      void reply.header('www-authenticate', 'Basic realm="taxii", Bearer');
      return fail(reply, 401, 'Unauthorized', 'credentials are missing or wrong');
    }
    principals.set(req, who);
    return undefined;
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const title = status === 413 ? 'Payload Too Large' : status < 500 ? 'Bad Request' : 'Internal Server Error';
    return fail(reply, status, title, status < 500 ? err.message : 'the server failed; see its log');
  });
  app.setNotFoundHandler((_req, reply) => fail(reply, 404, 'Not Found', 'no such TAXII resource'));

  const root = (req: FastifyRequest<{ Params: Partial<Params> }>, reply: FastifyReply) => {
    const r = roots.get(req.params.root ?? '');
    if (r === undefined) fail(reply, 404, 'Not Found', 'no such API root');
    return r;
  };
  const collection = (req: FastifyRequest<{ Params: Partial<Params> }>, reply: FastifyReply, access: Access) => {
    if (root(req, reply) === undefined) return undefined;
    const c = storage.collection(req.params.root!, req.params.collectionId ?? '');
    if (c === null) return void fail(reply, 404, 'Not Found', 'no such collection');
    if (!permits(principals.get(req)!, access, c)) return void fail(reply, 403, 'Forbidden', `no ${access} access to this collection`);
    return c;
  };

  app.get('/taxii2/', async (req, reply) => {
    const base = `${req.protocol}://${req.host}${app.prefix}`;
    return send(reply, 200, {
      title: opts.title ?? 'DaemonEye TAXII server',
      ...(opts.description === undefined ? {} : { description: opts.description }),
      ...(opts.contact === undefined ? {} : { contact: opts.contact }),
      ...(opts.apiRoots[0] === undefined ? {} : { default: `${base}/${opts.apiRoots[0].name}/` }),
      api_roots: opts.apiRoots.map((r) => `${base}/${r.name}/`),
    });
  });

  app.get<{ Params: Params }>('/:root/', async (req, reply) => {
    const r = root(req, reply);
    if (r === undefined) return reply;
    return send(reply, 200, {
      title: r.title, ...(r.description === undefined ? {} : { description: r.description }),
      versions: [TAXII_MEDIA_TYPE], max_content_length: maxContent,
    });
  });

  app.get<{ Params: Params }>('/:root/status/:statusId/', async (req, reply) => {
    if (root(req, reply) === undefined) return reply;
    const s = storage.status(req.params.root, req.params.statusId);
    if (s === null) return fail(reply, 404, 'Not Found', 'no such status');
    const c = storage.collection(req.params.root, s.collectionId);
    if (c === null || !permits(principals.get(req)!, 'write', c)) return fail(reply, 403, 'Forbidden', 'not your status resource');
    return send(reply, 200, {
      id: s.id, status: s.status, request_timestamp: formatStixMicros(s.createdUs),
      total_count: s.successes.length + s.failures.length + s.pendings.length,
      success_count: s.successes.length, failure_count: s.failures.length, pending_count: s.pendings.length,
      successes: s.successes.map(({ id, version }) => ({ id, version })),
      failures: s.failures.map(({ id, version, message }) => ({ id, version, message })),
      pendings: s.pendings.map(({ id, version }) => ({ id, version })),
    });
  });

  app.get<{ Params: Params }>('/:root/collections/', async (req, reply) => {
    if (root(req, reply) === undefined) return reply;
    const who = principals.get(req)!;
    const list = storage.collections(req.params.root).filter((c) => permits(who, 'read', c) || permits(who, 'write', c));
    return send(reply, 200, list.length === 0 ? {} : { collections: list.map((c) => describeCollection(c, who, permits)) });
  });

  app.get<{ Params: Params }>('/:root/collections/:collectionId/', async (req, reply) => {
    if (root(req, reply) === undefined) return reply;
    const c = storage.collection(req.params.root, req.params.collectionId);
    const who = principals.get(req)!;
    if (c === null) return fail(reply, 404, 'Not Found', 'no such collection');
    if (!permits(who, 'read', c) && !permits(who, 'write', c)) return fail(reply, 403, 'Forbidden', 'no access to this collection');
    return send(reply, 200, describeCollection(c, who, permits));
  });

  /** GET objects / manifest / one object / versions: one paging implementation. */
  const listing = (kind: 'objects' | 'manifest' | 'object' | 'versions') =>
    async (req: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => {
      const c = collection(req, reply, 'read');
      if (c === undefined) return reply;
      const parsed = parseFilter(req.query, kind, req.params.objectId, c.id, defaultPage, maxPage);
      if (typeof parsed === 'string') return fail(reply, 400, 'Bad Request', parsed);
      const { objects, more } = storage.query(parsed.query);
      // An unknown object id is a 404 on the single-object endpoints (section 5.5), not an empty page.
      if ((kind === 'object' || kind === 'versions') && objects.length === 0 && parsed.query.afterUs === undefined) {
        return fail(reply, 404, 'Not Found', 'no such object (or no version matches)');
      }
      if (objects.length > 0) {
        void reply.header('X-TAXII-Date-Added-First', formatStixMicros(objects[0]!.dateAddedUs));
        void reply.header('X-TAXII-Date-Added-Last', formatStixMicros(objects[objects.length - 1]!.dateAddedUs));
      }
      const paging = { more, ...(more ? { next: encodeNext(objects[objects.length - 1]!.dateAddedUs, parsed.hash) } : {}) };
      if (kind === 'versions') return send(reply, 200, { ...paging, versions: objects.map((o) => o.version) });
      if (kind === 'manifest') return send(reply, 200, { ...paging, objects: objects.map(manifestRecord) });
      // The stored JSON is spliced in as text: no parse/stringify round trip per object per page.
      return sendRaw(reply, `{"more":${more}${paging.next === undefined ? '' : `,"next":${JSON.stringify(paging.next)}`},"objects":[${objects.map((o) => o.json).join(',')}]}`);
    };
  app.get('/:root/collections/:collectionId/objects/', listing('objects'));
  app.get('/:root/collections/:collectionId/manifest/', listing('manifest'));
  app.get('/:root/collections/:collectionId/objects/:objectId/', listing('object'));
  app.get('/:root/collections/:collectionId/objects/:objectId/versions/', listing('versions'));

  app.post<{ Params: Params; Body: unknown }>('/:root/collections/:collectionId/objects/', async (req, reply) => {
    const c = collection(req, reply, 'write');
    if (c === undefined) return reply;
    const body = req.body as { objects?: unknown } | null;
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.objects)) {
      return fail(reply, 422, 'Unprocessable Entity', 'the body must be an envelope: {"objects": [...]}');
    }
    const s = storage.add(c.id, body.objects);
    return send(reply, 202, {
      id: s.id, status: s.status, request_timestamp: formatStixMicros(s.createdUs),
      total_count: body.objects.length, success_count: s.successes.length, failure_count: s.failures.length, pending_count: s.pendings.length,
      successes: s.successes.map(({ id, version }) => ({ id, version })),
      failures: s.failures.map(({ id, version, message }) => ({ id, version, message })),
      pendings: s.pendings.map(({ id, version }) => ({ id, version })),
    });
  });
}

function describeCollection(c: CollectionRecord, who: string, permits: NonNullable<TaxiiServerOptions['permits']>): object {
  return {
    id: c.id, title: c.title, ...(c.description === null ? {} : { description: c.description }),
    can_read: permits(who, 'read', c), can_write: permits(who, 'write', c), media_types: ['application/stix+json;version=2.1'],
  };
}

function manifestRecord(o: StoredObject): object {
  return { id: o.id, date_added: formatStixMicros(o.dateAddedUs), version: o.version, media_type: 'application/stix+json;version=2.1' };
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return sendRaw(reply.code(status), JSON.stringify(body));
}

/** A Buffer, because fastify rewrites the content type of string JSON bodies (adds a charset, quotes the version). */
function sendRaw(reply: FastifyReply, text: string): FastifyReply {
  return reply.header('content-type', TAXII_MEDIA_TYPE).send(Buffer.from(text));
}

/** A TAXII error message (section 3.6.1). */
function fail(reply: FastifyReply, status: number, title: string, description: string): FastifyReply {
  return send(reply.code(status), status, { title, description, http_status: String(status) });
}

function one(q: Query, key: string): string | undefined | null {
  const v = q[key];
  if (Array.isArray(v)) return null; // repeated parameter: ambiguous
  return v;
}

/** The query string as a storage query, or an error message (400). */
function parseFilter(q: Query, kind: 'objects' | 'manifest' | 'object' | 'versions', objectId: string | undefined, collectionId: string,
  defaultPage: number, maxPage: number): { query: ObjectQuery; hash: string } | string {
  const get = (k: string) => one(q, k);
  for (const k of Object.keys(q)) {
    if (!['added_after', 'limit', 'next', 'match[type]', 'match[id]', 'match[version]', 'match[spec_version]'].includes(k)) return `unknown parameter ${k}`;
  }
  const list = (k: string): string[] | undefined | string => {
    const v = get(k);
    if (v === null) return `${k} given twice`;
    if (v === undefined) return undefined;
    if (!ID_LIST.test(v) || v.length > 8192) return `${k} must be a comma-separated list`;
    return v.split(',');
  };
  const types = list('match[type]');
  const ids = list('match[id]');
  const versions = list('match[version]');
  const specVersions = list('match[spec_version]');
  for (const l of [types, ids, versions, specVersions]) if (typeof l === 'string') return l;
  let normVersions = versions as string[] | undefined;
  if (normVersions !== undefined) {
    const out: string[] = [];
    for (const v of normVersions) {
      if (v === 'first' || v === 'last' || v === 'all') out.push(v);
      else {
        const us = parseStixTimeMicros(v);
        if (us === null) return `match[version] ${v} is neither first, last, all nor a timestamp`;
        out.push(formatStixMicros(us));
      }
    }
    normVersions = out;
  }
  // The versions endpoint lists every version; the single object endpoint defaults to the latest.
  if (kind === 'versions') normVersions = ['all'];
  const addedAfterText = get('added_after');
  if (addedAfterText === null) return 'added_after given twice';
  const addedAfterUs = addedAfterText === undefined ? undefined : parseStixTimeMicros(addedAfterText);
  if (addedAfterUs === null) return 'added_after is not a valid timestamp';
  const limitText = get('limit');
  if (limitText === null || (limitText !== undefined && !/^[1-9]\d{0,8}$/.test(limitText))) return 'limit must be a positive integer';
  const limit = Math.min(limitText === undefined ? defaultPage : Number(limitText), maxPage);
  const filterKey = JSON.stringify([kind, objectId ?? null, addedAfterUs ?? null, types ?? null, ids ?? null, normVersions ?? null, specVersions ?? null]);
  const hash = createHash('sha256').update(filterKey).digest('base64url').slice(0, 16);
  const nextText = get('next');
  let afterUs: number | undefined;
  if (nextText === null) return 'next given twice';
  if (nextText !== undefined) {
    const us = decodeNext(nextText, hash);
    if (us === null) return 'next is not a token this server issued for these filters';
    afterUs = us;
  }
  const query: ObjectQuery = {
    collectionId, limit,
    ...(addedAfterUs === undefined ? {} : { addedAfterUs }),
    ...(afterUs === undefined ? {} : { afterUs }),
    ...(types === undefined ? {} : { types: types as string[] }),
    ...(objectId !== undefined ? { ids: [objectId] } : ids === undefined ? {} : { ids: ids as string[] }),
    ...(normVersions === undefined ? {} : { versions: normVersions }),
    ...(specVersions === undefined ? {} : { specVersions: specVersions as string[] }),
  };
  return { query, hash };
}

/** The date_added (microseconds) of the last object served, bound to the filters' hash. */
function encodeNext(afterUs: number, hash: string): string {
  return Buffer.from(`${afterUs}.${hash}`).toString('base64url');
}

function decodeNext(token: string, hash: string): number | null {
  if (token.length > 200) return null;
  const m = /^(\d{1,17})\.(.+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m !== null && m[2] === hash ? Number(m[1]) : null;
}
