// Hostile TAXII servers: every response is real HTTP on loopback. Each case must end in a coded
// error (or a bounded, counted rejection) and leave what the store already held untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openMemoryStore, type Db } from '../src/store/open-store.ts';
import { IntelStore } from '../src/intel/feeds/intel-store.ts';
import { syncFeed } from '../src/intel/feeds/feed-sync.ts';
import type { FeedSpec } from '../src/intel/feeds/feed-spec.ts';
import { TaxiiClient } from '../src/intel/taxii/taxii-client.ts';
import { TaxiiTransport, type TransportOptions } from '../src/intel/taxii/http-transport.ts';
import { DaemonEyeError } from '../src/errors/catalogue.ts';
import { indicator } from './taxii-helpers.ts';

const TAXII = 'application/taxii+json;version=2.1';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function withHostile(handler: Handler, body: (apiRoot: string, state: { bytesWritten: number }) => Promise<void>): Promise<void> {
  const state = { bytesWritten: 0 };
  const server = createServer((req, res) => {
    const write = res.write.bind(res);
    res.write = ((chunk: Buffer | string, ...rest: never[]) => {
      state.bytesWritten += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      return write(chunk, ...rest);
    }) as typeof res.write;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api1/`, state);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const client = (o: TransportOptions = {}) => new TaxiiClient(new TaxiiTransport({ retries: 0, timeoutMs: 5000, maxResponseBytes: 1 << 20, backoffBaseMs: 1, ...o }));
const page = (objects: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ more: false, objects, ...extra });
const answer = (status: number, body: string, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': TAXII, ...headers });
  res.end(body);
};
async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DaemonEyeError, String(e));
    assert.ok(e.hint.length > 0);
    return e.code;
  }
  return 'resolved';
}

test('HTTP statuses map to their codes: 401 403 404 406 415 422 5xx', async () => {
  const cases: [number, string][] = [[401, 'DE_TAXII_UNAUTHORIZED'], [403, 'DE_TAXII_FORBIDDEN'], [404, 'DE_TAXII_NOT_FOUND'],
    [406, 'DE_TAXII_NOT_ACCEPTABLE'], [415, 'DE_TAXII_UNSUPPORTED_MEDIA'], [422, 'DE_TAXII_UNPROCESSABLE'], [500, 'DE_TAXII_SERVER'], [503, 'DE_TAXII_SERVER'], [400, 'DE_TAXII_PROTOCOL']];
  for (const [status, expected] of cases) {
    await withHostile(answer(status, JSON.stringify({ title: `t${status}`, description: 'd\u0000\u001b[31m' })), async (root) => {
      assert.equal(await code(client().collections(root)), expected, String(status));
      assert.equal(await code(client().addObjects(root, 'c', [indicator(1)])), expected, `POST ${status}`);
    });
  }
});

test('5xx and 429 are retried with backoff honouring Retry-After; a Retry-After beyond the cap is not waited for', async () => {
  let n = 0;
  await withHostile((req, res) => {
    n++;
    if (n <= 2) return answer(503, '{}', { 'retry-after': '0' })(req, res);
    return answer(200, JSON.stringify({ collections: [] }))(req, res);
  }, async (root) => {
    assert.deepEqual(await client({ retries: 3 }).collections(root), []);
    assert.equal(n, 3);
  });
  let m = 0;
  await withHostile((req, res) => { m++; answer(429, '{}', { 'retry-after': '86400' })(req, res); }, async (root) => {
    assert.equal(await code(client({ retries: 5, maxRetryAfterMs: 1000 }).collections(root)), 'DE_TAXII_SERVER');
    assert.equal(m, 1);
  });
  let k = 0;
  await withHostile((req, res) => { k++; answer(500, 'oops')(req, res); }, async (root) => {
    assert.equal(await code(client({ retries: 2 }).collections(root)), 'DE_TAXII_SERVER');
    assert.equal(k, 3);
  });
});

test('a 2 GB response is never buffered: a declared size is refused up front, an undeclared one is cut at the limit', async () => {
  await withHostile((_req, res) => {
    res.writeHead(200, { 'content-type': TAXII, 'content-length': String(2 * 1024 ** 3) });
    res.write('{"objects":[');
  }, async (root) => {
    assert.equal(await code(client().collections(root)), 'DE_TAXII_TOO_LARGE');
  });
  await withHostile((_req, res) => {
    res.writeHead(200, { 'content-type': TAXII });
    res.write('{"more":false,"objects":[');
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // Writes until the client goes away (or 2 GB, which it never reaches).
    const pump = () => {
      let sent = 0;
      while (!res.destroyed && sent++ < 16 && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  }, async (root, state) => {
    assert.equal(await code(client().objectsPage(root, 'c')), 'DE_TAXII_TOO_LARGE');
    assert.ok(state.bytesWritten < 64 * 1024 * 1024, `the server stopped after ${state.bytesWritten} bytes`);
  });
});

test('malformed JSON, deep nesting, wrong content types and a slow-loris server', async () => {
  await withHostile(answer(200, '{"objects": [ {"id": "x", '), async (root) => {
    assert.equal(await code(client().collections(root)), 'DE_TAXII_INVALID_JSON');
  });
  await withHostile(answer(200, '['.repeat(200_000) + ']'.repeat(200_000)), async (root) => {
    assert.equal(await code(client().collections(root)), 'DE_TAXII_INVALID_JSON');
  });
  await withHostile(answer(200, `{"a":"${'['.repeat(1000)}"}`), async (root) => {
    // Brackets inside strings are not nesting: a valid (if odd) resource with no collections.
    assert.deepEqual(await client().collections(root), []);
  });
  for (const type of ['text/html', 'application/json', 'application/taxii+json;version=2.0', 'application/vnd.oasis.taxii+json; version=2.0']) {
    await withHostile((_req, res) => { res.writeHead(200, { 'content-type': type }); res.end('{"collections":[]}'); }, async (root) => {
      assert.equal(await code(client().collections(root)), 'DE_TAXII_CONTENT_TYPE', type);
    });
  }
  await withHostile((_req, res) => {
    res.writeHead(200, { 'content-type': TAXII });
    const drip = setInterval(() => { if (res.destroyed) clearInterval(drip); else res.write(' '); }, 50);
    res.on('close', () => clearInterval(drip));
  }, async (root) => {
    assert.equal(await code(client({ timeoutMs: 1000 }).collections(root)), 'DE_TAXII_TIMEOUT');
  });
  await withHostile((req) => { req.socket.destroy(); }, async (root) => {
    assert.equal(await code(client().collections(root)), 'DE_TAXII_NETWORK');
  });
  assert.equal(await code(client().collections('http://127.0.0.1:1/api1/')), 'DE_TAXII_NETWORK');
});

test('pagination breakage: next without more, more not a boolean, more without any way to continue, a year-99999 date header', async () => {
  const one = [indicator(1)];
  const cases: [Record<string, unknown>, Record<string, string>, string][] = [
    [{ next: 'abc', more: undefined }, {}, 'DE_TAXII_PAGINATION'],
    [{ more: 'yes' }, {}, 'DE_TAXII_PAGINATION'],
    [{ more: true }, {}, 'DE_TAXII_PAGINATION'],
    [{}, { 'x-taxii-date-added-last': '99999-01-01T00:00:00Z' }, 'DE_TAXII_TIMESTAMP'],
    [{}, { 'x-taxii-date-added-first': '2026-02-30T00:00:00Z' }, 'DE_TAXII_TIMESTAMP'],
    [{ objects: { not: 'a list' } }, {}, 'DE_TAXII_PROTOCOL'],
  ];
  for (const [extra, headers, expected] of cases) {
    await withHostile(answer(200, page(one, extra), headers), async (root) => {
      assert.equal(await code((async () => { for await (const _ of client().objects(root, 'c')) { /* drain */ } })()), expected, JSON.stringify(extra));
    });
  }
});

function feed(url: string): FeedSpec {
  return { name: 'f', url, collectionId: 'c', auth: null, tls: null, types: ['indicator'], pageSize: 100, timeoutMs: 2000, maxResponseBytes: 1 << 20 };
}

function seeded(): { db: Db; store: IntelStore } {
  const db = openMemoryStore();
  const store = new IntelStore(db);
  store.ensureFeed('f', 'http://127.0.0.1/placeholder/', 'c');
  return { db, store };
}

test('invalid objects (year-99999 valid_from, bad ids, wrong spec_version, huge pattern) are rejected one by one; the rest of the page is stored', async () => {
  const objects = [
    indicator(1),
    indicator(2, { valid_from: '99999-01-01T00:00:00Z' }),
    indicator(3, { modified: '2026-13-01T00:00:00Z' }),
    indicator(4, { id: 'indicator--not-a-uuid' }),
    indicator(5, { spec_version: '2.0' }),
    indicator(6, { pattern: 'x'.repeat(70_000) }),
    indicator(7, { valid_until: '2025-01-01T00:00:00Z' }),
    indicator(8, { confidence: 1e9 }),
    'a string', null, 42, { id: 1, type: [] },
    indicator(9),
  ];
  await withHostile(answer(200, page(objects), { 'x-taxii-date-added-last': '2026-06-01T00:00:00.123Z' }), async (root) => {
    const { db, store } = seeded();
    const r = await syncFeed(store, client(), feed(root));
    assert.equal(r.error, null);
    assert.equal(r.added, 2);
    assert.equal(r.malformed, 4);
    assert.deepEqual(r.rejected.map((x) => x.code), ['DE_TAXII_TIMESTAMP', 'DE_TAXII_TIMESTAMP', 'DE_TAXII_INVALID_OBJECT', 'DE_TAXII_INVALID_OBJECT',
      'DE_TAXII_INVALID_OBJECT', 'DE_TAXII_INVALID_OBJECT', 'DE_TAXII_INVALID_OBJECT']);
    assert.match(store.feed('f')!.last_error!, /^DE_TAXII_TIMESTAMP: 7 object\(s\) rejected/);
    assert.equal(store.feed('f')!.added_after, '2026-06-01T00:00:00.123Z');
    db.close();
  });
});

test('a hostile sync loses nothing already stored and leaves the cursor where it was', async () => {
  const { db, store } = seeded();
  let handler: Handler = answer(200, page([indicator(1), indicator(2)]), { 'x-taxii-date-added-last': '2026-06-01T00:00:00Z' });
  await withHostile((req, res) => handler(req, res), async (root) => {
    assert.equal((await syncFeed(store, client(), feed(root))).added, 2);
    const snapshot = () => JSON.stringify([db.prepare('SELECT * FROM intel_indicators ORDER BY indicator_id').all(), store.feed('f')!.added_after]);
    const before = snapshot();
    const hostile: Handler[] = [
      answer(200, '{"more": false, "objects": [' + '{"a":1},'.repeat(10)),
      answer(200, '['.repeat(100_000)),
      answer(500, 'x'),
      answer(200, page([indicator(1, { modified: '2027-01-01T00:00:00Z', name: 'poison' })]), { 'x-taxii-date-added-last': '99999-12-31T00:00:00Z' }),
      (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>'); },
      (_req, res) => { res.writeHead(200, { 'content-type': TAXII, 'content-length': String(2 * 1024 **3) }); res.write('{'); },
    ];
    for (const h of hostile) {
      handler = h;
      const r = await syncFeed(store, client(), feed(root));
      assert.ok(r.error instanceof DaemonEyeError);
      assert.match(store.feed('f')!.last_error!, /^DE_TAXII_/);
      assert.equal(snapshot(), before);
    }
  });
  db.close();
});

test('fuzz: mangled envelopes never throw out of a sync and never remove stored indicators', async () => {
  const good = page(Array.from({ length: 5 }, (_, i) => indicator(i + 1)));
  let body = good;
  let seed = 12345;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const { db, store } = seeded();
  await withHostile((req, res) => answer(200, body, { 'x-taxii-date-added-last': '2026-06-01T00:00:00Z' })(req, res), async (root) => {
    const f = feed(root);
    for (let i = 0; i < 150; i++) {
      const bytes = Buffer.from(good);
      const mode = rand(4);
      if (mode === 0) body = bytes.subarray(0, rand(bytes.length)).toString('latin1');
      else if (mode === 1) { for (let k = 0; k < 4; k++) bytes[rand(bytes.length)] = rand(256); body = bytes.toString('latin1'); }
      else if (mode === 2) body = good.replace(/"2026-01-01T00:00:00(\.000)?Z"/g, () => JSON.stringify(['99999-01-01T00:00:00Z', '2026-02-29T00:00:00Z', '', 1, null][rand(5)]));
      else body = good.replace(/"[a-z_]+":/g, (k) => (rand(6) === 0 ? '"zz":' : k));
      const before = (db.prepare('SELECT count(*) AS n FROM intel_indicators').get() as { n: number }).n;
      const r = await syncFeed(store, client(), f);
      assert.ok(r.error === null || r.error.code.startsWith('DE_TAXII_'), r.error?.code);
      assert.ok((db.prepare('SELECT count(*) AS n FROM intel_indicators').get() as { n: number }).n >= before);
    }
  });
  db.close();
});
