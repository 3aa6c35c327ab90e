// A deliberately strict and quirky TAXII 2.1 server, written independently of ours with plain
// node:http, so the client is proven against behaviour our own server does not have:
//  - 406 unless Accept is exactly the TAXII 2.1 media type (no bare application/taxii+json, no */*);
//  - `next` tokens that expire (single use, and all of them on demand) -> 404 "unknown next";
//  - a 500 when `limit` is missing on a follow-up page, and a 400 when filters change mid-paging;
//  - its own page size cap (smaller than asked), odd header casing and spacing in Content-Type;
//  - optional: pages without X-TAXII-Date-Added-* headers, `more` without `next`, 429 with
//    Retry-After on the first request, adds that stay `pending` for a few status polls.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface QuirkyOptions {
  /** The server never returns more than this per page, whatever `limit` asks. */
  readonly pageCap?: number;
  readonly omitDateHeaders?: boolean;
  /** Page with `more: true` and X-TAXII-Date-Added-Last but no `next` (client must page by date). */
  readonly moreWithoutNext?: boolean;
  /** Answer the first N requests with 429 Retry-After: 0. */
  readonly throttleFirst?: number;
  /** Status polls that stay `pending` before an add is `complete`. */
  readonly pendingPolls?: number;
}

interface Entry { readonly obj: Record<string, unknown>; readonly addedMs: number; readonly addedText: string }

export class QuirkyTaxiiServer {
  readonly entries: Entry[] = [];
  readonly log: { method: string; url: string; status: number }[] = [];
  readonly #server: Server;
  readonly #o: QuirkyOptions;
  readonly #tokens = new Map<string, { offset: number; filterKey: string }>();
  readonly #statuses = new Map<string, { polls: number; ids: string[] }>();
  #throttled = 0;
  #clock = Date.parse('2026-06-01T00:00:00Z');
  apiRoot = '';

  constructor(o: QuirkyOptions = {}) {
    this.#o = o;
    this.#server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => { body += c; });
      req.on('end', () => this.#handle(req, res, body));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.apiRoot = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/root/`;
    return this;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  /** Adds objects with increasing date_added; timestamps alternate between second and millisecond precision. */
  add(objs: readonly Record<string, unknown>[]): void {
    for (const obj of objs) {
      this.#clock += 1000 + (this.entries.length % 2) * 7;
      const iso = new Date(this.#clock).toISOString();
      this.entries.push({ obj, addedMs: this.#clock, addedText: this.#clock % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso });
    }
  }

  expireAllTokens(): void {
    this.#tokens.clear();
  }

  #handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.log.push({ method: req.method ?? '', url: req.url ?? '', status });
      res.writeHead(status, { 'Content-Type': 'application/taxii+json; version=2.1', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, title: string) => reply(status, { title, http_status: String(status) });
    if (req.headers.accept !== 'application/taxii+json;version=2.1') return error(406, 'Accept must be exactly application/taxii+json;version=2.1');
    if (this.#throttled < (this.#o.throttleFirst ?? 0)) {
      this.#throttled++;
      this.log.push({ method: req.method ?? '', url: req.url ?? '', status: 429 });
      res.writeHead(429, { 'Content-Type': 'application/taxii+json;version=2.1', 'Retry-After': '0' });
      res.end('{"title":"slow down"}');
      return;
    }
    const path = url.pathname;
    if (path === '/root/collections/') return reply(200, { collections: [{ id: 'quirks', title: 'Quirks', can_read: true, can_write: true }] });
    const status = /^\/root\/status\/([^/]+)\/$/.exec(path);
    if (status) {
      const s = this.#statuses.get(status[1]!);
      if (!s) return error(404, 'no such status');
      const done = s.polls++ >= (this.#o.pendingPolls ?? 0);
      return reply(200, {
        id: status[1], status: done ? 'complete' : 'pending', total_count: s.ids.length,
        success_count: done ? s.ids.length : 0, failure_count: 0, pending_count: done ? 0 : s.ids.length,
        ...(done ? { successes: s.ids.map((id) => ({ id })) } : { pendings: s.ids.map((id) => ({ id })) }),
      });
    }
    if (path !== '/root/collections/quirks/objects/') return error(404, 'not found');
    if (req.method === 'POST') {
      if (req.headers['content-type'] !== 'application/taxii+json;version=2.1') return error(415, 'wrong content type');
      const env = JSON.parse(body) as { objects: Record<string, unknown>[] };
      this.add(env.objects);
      const id = randomUUID();
      this.#statuses.set(id, { polls: 0, ids: env.objects.map((o) => String(o.id)) });
      return reply(202, { id, status: 'pending', total_count: env.objects.length, success_count: 0, failure_count: 0, pending_count: env.objects.length });
    }
    const q = url.searchParams;
    const filterKey = JSON.stringify([q.get('match[type]'), q.get('match[id]'), q.get('match[version]'), q.get('added_after')]);
    let offset = 0;
    const next = q.get('next');
    if (next !== null) {
      if (q.get('limit') === null) return error(500, 'internal error: limit required on follow-up pages');
      const t = this.#tokens.get(next);
      if (!t) return error(404, 'unknown or expired next token');
      if (t.filterKey !== filterKey) return error(400, 'filters changed while paging');
      this.#tokens.delete(next); // single use
      offset = t.offset;
    }
    const types = q.get('match[type]')?.split(',');
    const afterText = q.get('added_after');
    const after = afterText === null ? -Infinity : Date.parse(afterText);
    const matching = this.entries.filter((e) => e.addedMs > after && (!types || types.includes(String(e.obj.type))));
    const limit = Math.min(Number(q.get('limit') ?? 50), this.#o.pageCap ?? 50);
    const page = matching.slice(offset, offset + limit);
    const more = offset + limit < matching.length;
    const headers: Record<string, string> = {};
    if (page.length > 0 && !this.#o.omitDateHeaders) {
      headers['x-taxii-date-added-first'] = page[0]!.addedText;
      headers['X-TAXII-DATE-ADDED-LAST'] = page[page.length - 1]!.addedText;
    }
    const envelope: Record<string, unknown> = { more, objects: page.map((e) => e.obj) };
    if (more && !this.#o.moreWithoutNext) {
      const token = randomUUID();
      this.#tokens.set(token, { offset: offset + limit, filterKey });
      envelope.next = token;
    }
    return reply(200, envelope, headers);
  }
}
