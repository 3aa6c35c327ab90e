// Our TAXII 2.1 server module as any HTTP client sees it (raw fetch on loopback): negotiation,
// errors in the TAXII error format, next tokens bound to their filters, limits, status resources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLLECTION, WRITABLE, indicator, startOurServer } from './taxii-helpers.ts';

const TAXII = 'application/taxii+json;version=2.1';

async function get(url: string, accept = TAXII): Promise<{ status: number; type: string | null; body: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(url, { headers: { accept } });
  return { status: r.status, type: r.headers.get('content-type'), body: await r.json() as Record<string, unknown>, headers: r.headers };
}

test('content negotiation: 406 without a TAXII 2.1 Accept, 415 for a POST of another media type, errors in TAXII format', async () => {
  const s = await startOurServer();
  try {
    for (const accept of ['application/json', '*/*', 'application/taxii+json;version=2.0', 'text/html']) {
      const r = await get(s.apiRoot, accept);
      assert.equal(r.status, 406, accept);
      assert.equal(r.type, TAXII);
      assert.equal(r.body.http_status, '406');
    }
    assert.equal((await get(s.apiRoot, 'application/taxii+json')).status, 200);
    assert.equal((await get(s.apiRoot, 'application/json, application/taxii+json; version="2.1"')).status, 200);
    for (const type of ['application/json', 'application/stix+json;version=2.1', 'text/plain']) {
      const r = await fetch(`${s.apiRoot}collections/${WRITABLE}/objects/`, { method: 'POST', headers: { accept: TAXII, 'content-type': type }, body: JSON.stringify({ objects: [indicator(1)] }) });
      assert.equal(r.status, 415, type);
    }
    const post = (body: string) => fetch(`${s.apiRoot}collections/${WRITABLE}/objects/`, { method: 'POST', headers: { accept: TAXII, 'content-type': TAXII }, body });
    assert.equal((await post('{"objects": {}}')).status, 422);
    assert.equal((await post('[1,2]')).status, 422);
    assert.equal((await post('{"objects": [')).status, 400);
    assert.equal((await post('['.repeat(10_000))).status, 400);
    const big = await post(JSON.stringify({ objects: [indicator(1, { description: 'x'.repeat(11 * 1024 * 1024) })] }));
    assert.equal(big.status, 413);
    assert.equal((await get(`${s.apiRoot}nope/`)).status, 404);
    assert.equal((await get(s.apiRoot.replace('api1', 'api2'))).status, 404);
  } finally {
    await s.close();
  }
});

test('query parameters are validated and next tokens only work with the filters they were issued for', async () => {
  const s = await startOurServer({ maxPageSize: 5 });
  try {
    s.storage.add(COLLECTION, Array.from({ length: 12 }, (_, i) => indicator(i + 1)));
    const objects = `${s.apiRoot}collections/${COLLECTION}/objects/`;
    for (const q of ['added_after=99999-01-01T00:00:00Z', 'added_after=yesterday', 'limit=0', 'limit=-1', 'limit=abc', 'match[version]=newest', 'match[type]=a%20b', 'next=garbage', 'nonsense=1', 'limit=1&limit=2']) {
      const r = await get(`${objects}?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.http_status, '400');
    }
    const first = await get(`${objects}?limit=100&match[type]=indicator`);
    assert.equal((first.body.objects as unknown[]).length, 5, 'limit is capped by maxPageSize');
    assert.equal(first.body.more, true);
    const next = first.body.next as string;
    assert.equal((await get(`${objects}?limit=100&match[type]=indicator&next=${next}`)).status, 200);
    assert.equal((await get(`${objects}?limit=100&match[type]=malware&next=${next}`)).status, 400, 'other filters');
    assert.equal((await get(`${s.apiRoot}collections/${COLLECTION}/manifest/?next=${next}`)).status, 400, 'other endpoint');
    const added = first.headers.get('x-taxii-date-added-last')!;
    assert.match(added, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const rest = await get(`${objects}?added_after=${added}&limit=100`);
    assert.equal((rest.body.objects as unknown[]).length, 5);
    assert.equal(rest.headers.get('x-taxii-date-added-first')! > added, true);
    const empty = await get(`${objects}?added_after=2099-01-01T00:00:00Z`);
    assert.deepEqual(empty.body, { more: false, objects: [] });
    assert.equal(empty.headers.get('x-taxii-date-added-first'), null);
  } finally {
    await s.close();
  }
});

test('adds are idempotent per id and version; the status resource lists successes and failures', async () => {
  const s = await startOurServer();
  try {
    const post = async (objects: unknown[]) => {
      const r = await fetch(`${s.apiRoot}collections/${WRITABLE}/objects/`, { method: 'POST', headers: { accept: TAXII, 'content-type': TAXII }, body: JSON.stringify({ objects }) });
      assert.equal(r.status, 202);
      return await r.json() as Record<string, unknown>;
    };
    const st = await post([indicator(1), indicator(1), { type: 'indicator', id: 'indicator--x' }, indicator(2, { modified: 'later' }), 7]);
    assert.equal(st.success_count, 2);
    assert.equal(st.failure_count, 3);
    const again = await get(`${s.apiRoot}status/${st.id as string}/`);
    assert.equal(again.body.status, 'complete');
    assert.equal((again.body.failures as { message: string }[]).length, 3);
    await post([indicator(1)]);
    const versions = await get(`${s.apiRoot}collections/${WRITABLE}/objects/${indicator(1).id as string}/versions/`);
    assert.deepEqual(versions.body.versions, ['2026-01-01T00:00:00.000000Z']);
    assert.equal((await get(`${s.apiRoot}status/00000000-0000-0000-0000-000000000000/`)).status, 404);
  } finally {
    await s.close();
  }
});

test('authentication hook: 401 with WWW-Authenticate, collections listed per principal', async () => {
  const s = await startOurServer({
    authenticate: (req) => (req.headers.authorization === 'Bearer reader' ? 'reader' : null),
    permits: (_who, access, c) => access === 'read' && c.id === COLLECTION,
  });
  try {
    const anon = await fetch(`${s.apiRoot}collections/`, { headers: { accept: TAXII } });
    assert.equal(anon.status, 401);
    assert.ok(anon.headers.get('www-authenticate'));
    const r = await fetch(`${s.apiRoot}collections/`, { headers: { accept: TAXII, authorization: 'Bearer reader' } });
    const cols = (await r.json() as { collections: { id: string; can_write: boolean }[] }).collections;
    assert.deepEqual(cols.map((c) => [c.id, c.can_write]), [[COLLECTION, false]]);
    const hidden = await fetch(`${s.apiRoot}collections/${WRITABLE}/objects/`, { headers: { accept: TAXII, authorization: 'Bearer reader' } });
    assert.equal(hidden.status, 403);
  } finally {
    await s.close();
  }
});

test('fuzz: mangled envelopes and query strings never make the server fail (no 5xx) and never lose stored objects', async () => {
  const s = await startOurServer();
  try {
    s.storage.add(WRITABLE, [indicator(1), indicator(2)]);
    const good = JSON.stringify({ objects: [indicator(3), indicator(4, { modified: '2026-05-01T00:00:00Z' })] });
    let seed = 777;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const statuses = new Set<number>();
    for (let i = 0; i < 120; i++) {
      const bytes = Buffer.from(good);
      const mode = rand(3);
      let body: Buffer | string;
      if (mode === 0) body = bytes.subarray(0, rand(bytes.length));
      else if (mode === 1) { for (let k = 0; k < 3; k++) bytes[rand(bytes.length)] = rand(256); body = bytes; }
      else body = good.replace(/"(2026-[^"]+|indicator--[^"]+|2\.1)"/g, (m) => (rand(3) === 0 ? JSON.stringify(['99999-01-01T00:00:00Z', 'x', 7, null, {}][rand(5)]) : m));
      const r = await fetch(`${s.apiRoot}collections/${WRITABLE}/objects/`, { method: 'POST', headers: { accept: TAXII, 'content-type': TAXII }, body });
      statuses.add(r.status);
      assert.ok(r.status < 500, `POST ${r.status}`);
      const q = ['added_after', 'limit', 'next', 'match[type]', 'match[id]', 'match[version]', 'match[spec_version]'][rand(7)]!;
      const v = ['', '%00', '-1', '1e9', '99999-01-01T00:00:00Z', 'a,b,,c', '%ff%fe', 'last,first', '2026-01-01T00:00:00Z'][rand(9)]!;
      const g = await fetch(`${s.apiRoot}collections/${WRITABLE}/objects/?${q}=${v}`, { headers: { accept: TAXII } });
      assert.ok(g.status === 200 || g.status === 400, `GET ?${q}=${v}: ${g.status}`);
    }
    assert.ok(statuses.size > 1, 'the fuzz reached more than one outcome');
    const ids = s.storage.query({ collectionId: WRITABLE, limit: 1000 }).objects.map((o) => o.id);
    assert.ok(ids.includes(indicator(1).id as string) && ids.includes(indicator(2).id as string));
  } finally {
    await s.close();
  }
});
