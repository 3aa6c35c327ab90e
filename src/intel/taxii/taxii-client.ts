// A TAXII 2.1 client (OASIS TAXII 2.1, sections 4 and 5): discovery, API roots, collections,
// objects and manifests with pagination and match[] filters, versions, adding objects and polling
// their status. Every response is checked for the shape the spec requires before anything uses it.
//
// Pagination keeps the same filters on every page (some servers tie a `next` token to them, and a
// server may require `limit` on follow-up pages). When a `next` token has expired, the client
// resumes from the X-TAXII-Date-Added-Last of the last page it received, which is what the spec
// offers for exactly this (section 3.4.1).

import { parseStixTimeMicros } from './stix-time.ts';
import { TaxiiError, type TaxiiResponse, type TaxiiTransport } from './http-transport.ts';

export interface Discovery {
  readonly title: string;
  readonly description?: string;
  readonly contact?: string;
  readonly default?: string;
  readonly api_roots: readonly string[];
}

export interface ApiRoot {
  readonly title: string;
  readonly versions: readonly string[];
  readonly max_content_length: number;
  readonly description?: string;
}

export interface Collection {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly can_read: boolean;
  readonly can_write: boolean;
  readonly media_types?: readonly string[];
}

export interface ManifestRecord {
  readonly id: string;
  readonly date_added: string;
  readonly version: string;
  readonly media_type?: string;
}

export interface TaxiiStatus {
  readonly id: string;
  readonly status: 'pending' | 'complete';
  readonly total_count: number;
  readonly success_count: number;
  readonly failure_count: number;
  readonly pending_count: number;
  readonly successes?: readonly { id: string; version?: string; message?: string }[];
  readonly failures?: readonly { id: string; version?: string; message?: string }[];
  readonly pendings?: readonly { id: string; version?: string; message?: string }[];
}

/** The match[] filters and paging of an objects or manifest request (TAXII 2.1 section 3.5). */
export interface ObjectFilter {
  readonly addedAfter?: string;
  readonly limit?: number;
  readonly types?: readonly string[];
  readonly ids?: readonly string[];
  /** `last` (the server default), `first`, `all`, or version timestamps. */
  readonly versions?: readonly string[];
  readonly specVersions?: readonly string[];
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly more: boolean;
  readonly next: string | null;
  readonly dateAddedFirst: string | null;
  readonly dateAddedLast: string | null;
  /** Entries of the page that were not objects with a string id and type (skipped). */
  readonly malformed?: number;
}

export type StixObject = Record<string, unknown> & { readonly id: string; readonly type: string };

/** Never follow more pages than this in one call: a server repeating itself must not loop us forever. */
const MAX_PAGES = 1_000_000;

export class TaxiiClient {
  readonly #t: TaxiiTransport;

  constructor(transport: TaxiiTransport) {
    this.#t = transport;
  }

  /** GET {server}/taxii2/ (pass the discovery URL itself). */
  async discovery(url: string): Promise<Discovery> {
    const b = asObject((await this.#t.get(url)).body, 'discovery');
    need(typeof b.title === 'string', 'discovery: title is not a string');
    const roots = b.api_roots ?? [];
    need(Array.isArray(roots) && roots.every((r) => typeof r === 'string'), 'discovery: api_roots is not a list of URLs');
    return { ...(b as object), title: b.title as string, api_roots: (roots as string[]).map((r) => new URL(r, url).href) } as Discovery;
  }

  async apiRoot(apiRootUrl: string): Promise<ApiRoot> {
    const b = asObject((await this.#t.get(slash(apiRootUrl))).body, 'api root');
    need(typeof b.title === 'string', 'api root: title is not a string');
    need(Array.isArray(b.versions), 'api root: versions is not a list');
    need(typeof b.max_content_length === 'number', 'api root: max_content_length is not a number');
    return b as unknown as ApiRoot;
  }

  async collections(apiRootUrl: string): Promise<Collection[]> {
    const b = asObject((await this.#t.get(slash(apiRootUrl) + 'collections/')).body, 'collections');
    const list = b.collections ?? [];
    need(Array.isArray(list), 'collections: collections is not a list');
    return (list as unknown[]).map((c) => checkCollection(c));
  }

  async collection(apiRootUrl: string, collectionId: string): Promise<Collection> {
    return checkCollection((await this.#t.get(collectionUrl(apiRootUrl, collectionId))).body);
  }

  /** One page of objects; pass the previous page's `next` to continue with the same filter. */
  async objectsPage(apiRootUrl: string, collectionId: string, filter: ObjectFilter = {}, next?: string): Promise<Page<StixObject>> {
    const res = await this.#t.get(collectionUrl(apiRootUrl, collectionId) + 'objects/' + query(filter, next));
    return envelopePage(res);
  }

  async manifestPage(apiRootUrl: string, collectionId: string, filter: ObjectFilter = {}, next?: string): Promise<Page<ManifestRecord>> {
    const res = await this.#t.get(collectionUrl(apiRootUrl, collectionId) + 'manifest/' + query(filter, next));
    const b = asObject(res.body, 'manifest');
    const list = b.objects ?? [];
    need(Array.isArray(list), 'manifest: objects is not a list');
    const items = (list as unknown[]).map((m) => {
      const r = asObject(m, 'manifest record');
      need(typeof r.id === 'string' && typeof r.version === 'string' && parseStixTimeMicros(r.date_added) !== null,
        'manifest record: id, version or date_added is missing or invalid', 'DE_TAXII_PROTOCOL');
      return r as unknown as ManifestRecord;
    });
    return { items, ...paging(b, res) };
  }

  /** Every page of objects matching `filter`, following `next` (or date_added when a token expires). */
  objects(apiRootUrl: string, collectionId: string, filter: ObjectFilter = {}): AsyncGenerator<Page<StixObject>> {
    return this.#pages((f, n) => this.objectsPage(apiRootUrl, collectionId, f, n), filter);
  }

  manifest(apiRootUrl: string, collectionId: string, filter: ObjectFilter = {}): AsyncGenerator<Page<ManifestRecord>> {
    return this.#pages((f, n) => this.manifestPage(apiRootUrl, collectionId, f, n), filter);
  }

  /** GET .../objects/{id}/ : the object's versions that match `filter` (default: the latest). */
  async object(apiRootUrl: string, collectionId: string, objectId: string, filter: Omit<ObjectFilter, 'ids' | 'types'> = {}): Promise<Page<StixObject>> {
    const res = await this.#t.get(`${collectionUrl(apiRootUrl, collectionId)}objects/${encodeURIComponent(objectId)}/${query(filter)}`);
    return envelopePage(res);
  }

  /** GET .../objects/{id}/versions/ : the version timestamps the server holds. */
  async versions(apiRootUrl: string, collectionId: string, objectId: string, filter: Pick<ObjectFilter, 'addedAfter' | 'limit' | 'specVersions'> = {}): Promise<Page<string>> {
    const res = await this.#t.get(`${collectionUrl(apiRootUrl, collectionId)}objects/${encodeURIComponent(objectId)}/versions/${query(filter)}`);
    const b = asObject(res.body, 'versions');
    const list = b.versions ?? [];
    need(Array.isArray(list) && list.every((v) => parseStixTimeMicros(v) !== null), 'versions: versions is not a list of timestamps', 'DE_TAXII_TIMESTAMP');
    return { items: list as string[], ...paging(b, res) };
  }

  /** POST an envelope; the server answers with a status resource (202). */
  async addObjects(apiRootUrl: string, collectionId: string, objects: readonly unknown[]): Promise<TaxiiStatus> {
    const res = await this.#t.post(collectionUrl(apiRootUrl, collectionId) + 'objects/', { objects });
    return checkStatus(res.body);
  }

  async status(apiRootUrl: string, statusId: string): Promise<TaxiiStatus> {
    return checkStatus((await this.#t.get(`${slash(apiRootUrl)}status/${encodeURIComponent(statusId)}/`)).body);
  }

  /** Polls a status resource until it is complete or `maxPolls` ran out; returns the last one seen. */
  async waitForStatus(apiRootUrl: string, initial: TaxiiStatus, opts: { pollMs?: number; maxPolls?: number } = {}): Promise<TaxiiStatus> {
    let s = initial;
    const pollMs = opts.pollMs ?? 1000;
    for (let i = 0; s.status !== 'complete' && i < (opts.maxPolls ?? 30); i++) {
      await new Promise((r) => setTimeout(r, pollMs));
      s = await this.status(apiRootUrl, s.id);
    }
    return s;
  }

  async *#pages<T>(fetchPage: (f: ObjectFilter, next?: string) => Promise<Page<T>>, filter: ObjectFilter): AsyncGenerator<Page<T>> {
    let next: string | undefined;
    let f = filter;
    let lastAdded: string | null = null;
    for (let n = 0; n < MAX_PAGES; n++) {
      let page: Page<T>;
      try {
        page = await fetchPage(f, next);
      } catch (e) {
        // A `next` token the server no longer knows (400/404/410, or a 5xx a strict server gives
        // for a stale token): resume by date instead, once, if we have a date to resume from.
        if (next === undefined || lastAdded === null || !(e instanceof TaxiiError) || e.status === null || ![400, 404, 410, 500].includes(e.status)) throw e;
        next = undefined;
        f = { ...filter, addedAfter: lastAdded };
        page = await fetchPage(f);
      }
      yield page;
      if (!page.more) return;
      if (page.dateAddedLast !== null) {
        if (lastAdded !== null && parseStixTimeMicros(page.dateAddedLast)! < parseStixTimeMicros(lastAdded)!) {
          throw new TaxiiError('DE_TAXII_PAGINATION', `X-TAXII-Date-Added-Last went backwards (${page.dateAddedLast} after ${lastAdded})`, null);
        }
        lastAdded = page.dateAddedLast;
      }
      if (page.next !== null) {
        if (page.next === next && page.items.length === 0) throw new TaxiiError('DE_TAXII_PAGINATION', 'the server returned an empty page with the same next token', null);
        next = page.next;
      } else if (page.dateAddedLast !== null && page.items.length > 0) {
        // more without next: the spec's other way to page is added_after = the last date_added.
        next = undefined;
        f = { ...filter, addedAfter: page.dateAddedLast };
      } else {
        throw new TaxiiError('DE_TAXII_PAGINATION', 'the page says more=true but gives neither a next token nor X-TAXII-Date-Added-Last', null);
      }
    }
    throw new TaxiiError('DE_TAXII_PAGINATION', `more than ${MAX_PAGES} pages: the server seems to repeat itself`, null);
  }
}

function slash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}

function collectionUrl(apiRootUrl: string, collectionId: string): string {
  return `${slash(apiRootUrl)}collections/${encodeURIComponent(collectionId)}/`;
}

export function query(f: ObjectFilter, next?: string): string {
  const p = new URLSearchParams();
  if (f.addedAfter !== undefined) p.set('added_after', f.addedAfter);
  if (f.limit !== undefined) p.set('limit', String(f.limit));
  if (next !== undefined) p.set('next', next);
  if (f.types?.length) p.set('match[type]', f.types.join(','));
  if (f.ids?.length) p.set('match[id]', f.ids.join(','));
  if (f.versions?.length) p.set('match[version]', f.versions.join(','));
  if (f.specVersions?.length) p.set('match[spec_version]', f.specVersions.join(','));
  const s = p.toString();
  return s === '' ? '' : '?' + s;
}

function need(ok: boolean, message: string, code: 'DE_TAXII_PROTOCOL' | 'DE_TAXII_PAGINATION' | 'DE_TAXII_TIMESTAMP' = 'DE_TAXII_PROTOCOL'): asserts ok {
  if (!ok) throw new TaxiiError(code, message, null);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  need(v !== null && typeof v === 'object' && !Array.isArray(v), `${what}: the response is not a JSON object`);
  return v as Record<string, unknown>;
}

function checkCollection(v: unknown): Collection {
  const c = asObject(v, 'collection');
  need(typeof c.id === 'string' && typeof c.title === 'string', 'collection: id or title missing');
  need(typeof c.can_read === 'boolean' && typeof c.can_write === 'boolean', 'collection: can_read/can_write are not booleans');
  return c as unknown as Collection;
}

function checkStatus(v: unknown): TaxiiStatus {
  const s = asObject(v, 'status');
  need(typeof s.id === 'string', 'status: id missing');
  need(s.status === 'pending' || s.status === 'complete', 'status: status is neither pending nor complete');
  for (const k of ['total_count', 'success_count', 'failure_count', 'pending_count']) {
    need(Number.isInteger(s[k]) && (s[k] as number) >= 0, `status: ${k} is not a count`);
  }
  return s as unknown as TaxiiStatus;
}

/** `more`, `next` and the X-TAXII-Date-Added-* headers of a page, checked. */
function paging(b: Record<string, unknown>, res: TaxiiResponse): Omit<Page<never>, 'items'> {
  need(b.more === undefined || typeof b.more === 'boolean', `envelope: more is ${JSON.stringify(b.more)?.slice(0, 40)}, not a boolean`, 'DE_TAXII_PAGINATION');
  need(b.next === undefined || (typeof b.next === 'string' && b.next.length > 0 && b.next.length <= 4096), 'envelope: next is not a token', 'DE_TAXII_PAGINATION');
  // TAXII 2.1 makes `more` optional (absent = false) but a `next` without `more` is ambiguous: we
  // cannot tell whether to follow it, and guessing either way loses or loops.
  need(!(b.next !== undefined && b.more === undefined), 'envelope: a next token without more', 'DE_TAXII_PAGINATION');
  const header = (name: string): string | null => {
    const v = res.headers[name];
    if (v === undefined) return null;
    need(typeof v === 'string' && parseStixTimeMicros(v) !== null, `${name}: ${JSON.stringify(v).slice(0, 60)} is not a valid timestamp`, 'DE_TAXII_TIMESTAMP');
    return v as string;
  };
  return {
    more: b.more === true, next: (b.next as string | undefined) ?? null,
    dateAddedFirst: header('x-taxii-date-added-first'), dateAddedLast: header('x-taxii-date-added-last'),
  };
}

function envelopePage(res: TaxiiResponse): Page<StixObject> {
  const b = asObject(res.body, 'envelope');
  const list = b.objects ?? [];
  need(Array.isArray(list), 'envelope: objects is not a list');
  // Objects are checked one by one by whoever stores them (a bad one is skipped, not the page);
  // here only that each is an object with a type and id, so the caller can name it.
  const items = (list as unknown[]).filter((o): o is StixObject =>
    o !== null && typeof o === 'object' && !Array.isArray(o) && typeof (o as StixObject).id === 'string' && typeof (o as StixObject).type === 'string');
  const malformed = list.length - items.length;
  return Object.assign({ items, ...paging(b, res) }, malformed > 0 ? { malformed } : {});
}
