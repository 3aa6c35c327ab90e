// The TAXII 2.1 client against our TAXII server module, both real, on loopback (TLS included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { TaxiiClient } from '../src/intel/taxii/taxii-client.ts';
import { TaxiiTransport, type TransportOptions } from '../src/intel/taxii/http-transport.ts';
import { taxiiServer } from '../src/intel/taxii/server/taxii-server.ts';
import { SqliteTaxiiStorage } from '../src/intel/taxii/server/sqlite-taxii-storage.ts';
import { openMemoryStore } from '../src/store/open-store.ts';
import { COLLECTION, WRITABLE, indicator, makePki, startOurServer } from './taxii-helpers.ts';

const client = (o: TransportOptions = {}) => new TaxiiClient(new TaxiiTransport({ retries: 0, ...o }));

async function collect<T>(pages: AsyncIterable<{ items: readonly T[] }>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const p of pages) out.push([...p.items]);
  return out;
}

test('discovery, API root, collections and one collection', async () => {
  const s = await startOurServer();
  try {
    const c = client();
    const d = await c.discovery(s.discovery);
    assert.deepEqual(d.api_roots, [s.apiRoot]);
    assert.equal(d.default, s.apiRoot);
    const root = await c.apiRoot(d.api_roots[0]!);
    assert.deepEqual(root.versions, ['application/taxii+json;version=2.1']);
    const cols = await c.collections(s.apiRoot);
    assert.deepEqual(cols.map((x) => x.id).sort(), [COLLECTION, WRITABLE].sort());
    const one = await c.collection(s.apiRoot, COLLECTION);
    assert.equal(one.title, 'Indicators');
    assert.equal(one.can_read, true);
  } finally {
    await s.close();
  }
});

test('add objects, then page through them with limit/next keeping the same filters on every page', async () => {
  const s = await startOurServer();
  try {
    const c = client();
    const objs = Array.from({ length: 25 }, (_, i) => indicator(i + 1));
    const status = await c.addObjects(s.apiRoot, COLLECTION, [...objs, { type: 'note', spec_version: '2.1', id: 'note--bad' }]);
    assert.equal(status.status, 'complete');
    assert.equal(status.success_count, 25);
    assert.equal(status.failure_count, 1);
    assert.equal((await c.status(s.apiRoot, status.id)).success_count, 25);
    s.requests.length = 0;
    const pages = await collect(c.objects(s.apiRoot, COLLECTION, { limit: 10, types: ['indicator'] }));
    assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
    assert.deepEqual(pages.flat().map((o) => o.id), objs.map((o) => o.id));
    assert.equal(s.requests.length, 3);
    for (const r of s.requests) {
      const q = new URL(r.split(' ')[1]!, 'http://x').searchParams;
      assert.equal(q.get('limit'), '10', r);
      assert.equal(q.get('match[type]'), 'indicator', r);
    }
    assert.ok(s.requests.slice(1).every((r) => r.includes('next=')));
    const manifest = await collect(c.manifest(s.apiRoot, COLLECTION, { limit: 7 }));
    assert.deepEqual(manifest.map((p) => p.length), [7, 7, 7, 4]);
    assert.ok(manifest.flat().every((m) => m.version === '2026-01-01T00:00:00.000000Z'));
  } finally {
    await s.close();
  }
});

test('added_after from X-TAXII-Date-Added-Last fetches exactly what was added since', async () => {
  const s = await startOurServer();
  try {
    const c = client();
    await c.addObjects(s.apiRoot, COLLECTION, Array.from({ length: 12 }, (_, i) => indicator(i + 1)));
    let last: string | null = null;
    for await (const p of c.objects(s.apiRoot, COLLECTION, { limit: 5 })) last = p.dateAddedLast;
    assert.ok(last !== null);
    await c.addObjects(s.apiRoot, COLLECTION, Array.from({ length: 3 }, (_, i) => indicator(100 + i)));
    const after = (await collect(c.objects(s.apiRoot, COLLECTION, { limit: 5, addedAfter: last }))).flat();
    assert.deepEqual(after.map((o) => o.id), [100, 101, 102].map((n) => indicator(n).id));
  } finally {
    await s.close();
  }
});

test('match[id], match[version] first/last/all/timestamp, versions and single object endpoints', async () => {
  const s = await startOurServer();
  try {
    const c = client();
    const v1 = indicator(7);
    const v2 = indicator(7, { modified: '2026-02-01T00:00:00Z', name: 'v2' });
    const v3 = indicator(7, { modified: '2026-03-01T00:00:00.5Z', name: 'v3' });
    await c.addObjects(s.apiRoot, COLLECTION, [v1, indicator(8), v3, v2]);
    const id = v1.id as string;
    const names = async (versions?: string[]) => (await collect(c.objects(s.apiRoot, COLLECTION, { ids: [id], ...(versions ? { versions } : {}) })))
      .flat().map((o) => o.name).sort();
    assert.deepEqual(await names(), ['v3']);
    assert.deepEqual(await names(['last']), ['v3']);
    assert.deepEqual(await names(['first']), ['Bad file 7']);
    assert.deepEqual(await names(['all']), ['Bad file 7', 'v2', 'v3']);
    assert.deepEqual(await names(['2026-02-01T00:00:00.000Z']), ['v2']);
    assert.deepEqual(await names(['first', 'last']), ['Bad file 7', 'v3']);
    const versions = await c.versions(s.apiRoot, COLLECTION, id);
    assert.deepEqual([...versions.items].sort(), ['2026-01-01T00:00:00.000000Z', '2026-02-01T00:00:00.000000Z', '2026-03-01T00:00:00.500000Z']);
    const single = await c.object(s.apiRoot, COLLECTION, id, { versions: ['all'] });
    assert.equal(single.items.length, 3);
    await assert.rejects(c.object(s.apiRoot, COLLECTION, indicator(999).id as string), { code: 'DE_TAXII_NOT_FOUND' });
    const both = (await collect(c.objects(s.apiRoot, COLLECTION, { ids: [id, indicator(8).id as string] }))).flat();
    assert.equal(both.length, 2);
  } finally {
    await s.close();
  }
});

test('basic, bearer and API-key auth; 401 for wrong credentials, 403 for a read-only collection, 404 for an unknown one', async () => {
  const s = await startOurServer({
    authenticate: (req) => {
      const h = req.headers;
      if (h.authorization === 'Basic ' + Buffer.from('alice:s3cret').toString('base64')) return 'alice';
      if (h.authorization === 'Bearer tok-123') return 'bot';
      if (h['x-api-key'] === 'k-456') return 'keyed';
      return null;
    },
    permits: (who, access) => access === 'read' || who === 'alice',
  });
  try {
    const basic = client({ auth: { type: 'basic', username: 'alice', password: 's3cret' } });
    const bearer = client({ auth: { type: 'bearer', token: 'tok-123' } });
    const key = client({ auth: { type: 'api_key', header: 'X-API-Key', value: 'k-456' } });
    assert.equal((await basic.addObjects(s.apiRoot, COLLECTION, [indicator(1)])).success_count, 1);
    assert.equal((await collect(bearer.objects(s.apiRoot, COLLECTION))).flat().length, 1);
    assert.equal((await collect(key.objects(s.apiRoot, COLLECTION))).flat().length, 1);
    const col = await bearer.collection(s.apiRoot, COLLECTION);
    assert.equal(col.can_write, false);
    await assert.rejects(client({ auth: { type: 'bearer', token: 'wrong' } }).collections(s.apiRoot), { code: 'DE_TAXII_UNAUTHORIZED', status: 401 });
    await assert.rejects(client().collections(s.apiRoot), { code: 'DE_TAXII_UNAUTHORIZED' });
    await assert.rejects(bearer.addObjects(s.apiRoot, COLLECTION, [indicator(2)]), { code: 'DE_TAXII_FORBIDDEN', status: 403 });
    await assert.rejects(bearer.collection(s.apiRoot, 'no-such-collection'), { code: 'DE_TAXII_NOT_FOUND', status: 404 });
  } finally {
    await s.close();
  }
});

test('HTTPS with a custom CA and a client certificate (mutual TLS)', async (t) => {
  let pki: { dir: string };
  try {
    pki = makePki();
  } catch (e) {
    t.skip(`openssl not usable here: ${(e as Error).message}`);
    return;
  }
  const f = (n: string) => readFileSync(join(pki.dir, n));
  const db = openMemoryStore();
  const storage = new SqliteTaxiiStorage(db);
  storage.createCollection({ id: COLLECTION, apiRoot: 'api1', title: 'Indicators', canRead: true, canWrite: true });
  storage.add(COLLECTION, [indicator(1), indicator(2)]);
  const app = Fastify({ https: { key: f('server.key'), cert: f('server.pem'), ca: f('ca.pem'), requestCert: true, rejectUnauthorized: true } });
  await app.register(taxiiServer, { prefix: '/taxii', storage, apiRoots: [{ name: 'api1', title: 'mTLS root' }] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const apiRoot = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}/taxii/api1/`;
  try {
    const good = client({ ca: f('ca.pem'), cert: f('client.pem'), key: f('client.key') });
    assert.equal((await collect(good.objects(apiRoot, COLLECTION))).flat().length, 2);
    await assert.rejects(client({ cert: f('client.pem'), key: f('client.key') }).collections(apiRoot), { code: 'DE_TAXII_NETWORK' });
    await assert.rejects(client({ ca: f('ca.pem') }).collections(apiRoot), { code: 'DE_TAXII_NETWORK' });
  } finally {
    await app.close();
    db.close();
  }
});
