// The TAXII client against a strict, quirky server that is not ours (test/taxii-quirky-server.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaxiiClient, type StixObject } from '../src/intel/taxii/taxii-client.ts';
import { TaxiiTransport } from '../src/intel/taxii/http-transport.ts';
import { QuirkyTaxiiServer, type QuirkyOptions } from './taxii-quirky-server.ts';
import { indicator } from './taxii-helpers.ts';

const client = (retries = 0) => new TaxiiClient(new TaxiiTransport({ retries, backoffBaseMs: 5 }));

async function withServer(o: QuirkyOptions, n: number, body: (s: QuirkyTaxiiServer) => Promise<void>): Promise<void> {
  const s = await new QuirkyTaxiiServer(o).start();
  s.add(Array.from({ length: n }, (_, i) => indicator(i + 1)));
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

const ids = (objs: readonly StixObject[]) => objs.map((o) => o.id);
const expected = (n: number) => Array.from({ length: n }, (_, i) => indicator(i + 1).id);

test('406 unless Accept is exactly the TAXII 2.1 media type; the client sends exactly that', async () => {
  await withServer({}, 3, async (s) => {
    for (const accept of ['application/taxii+json', '*/*', 'application/json']) {
      const r = await fetch(s.apiRoot + 'collections/', { headers: { accept } });
      assert.equal(r.status, 406, accept);
    }
    assert.equal((await client().collections(s.apiRoot)).length, 1);
  });
});

test('a server capping pages below `limit`, needing `limit` on every follow-up page, and refusing changed filters', async () => {
  await withServer({ pageCap: 3 }, 11, async (s) => {
    const got: StixObject[] = [];
    for await (const p of client().objects(s.apiRoot, 'quirks', { limit: 10, types: ['indicator'] })) got.push(...p.items);
    assert.deepEqual(ids(got), expected(11));
    assert.equal(s.log.length, 4);
    assert.ok(s.log.every((r) => r.status === 200), JSON.stringify(s.log));
  });
});

test('an expired next token: the client resumes from X-TAXII-Date-Added-Last, repeating and missing nothing', async () => {
  await withServer({ pageCap: 4 }, 14, async (s) => {
    const got: StixObject[] = [];
    let pages = 0;
    for await (const p of client().objects(s.apiRoot, 'quirks', { limit: 4 })) {
      got.push(...p.items);
      if (++pages === 2) s.expireAllTokens();
    }
    assert.deepEqual(ids(got), expected(14));
    assert.ok(s.log.some((r) => r.status === 404), 'the server did refuse a token');
  });
});

test('more=true without next: the client pages by added_after', async () => {
  await withServer({ pageCap: 5, moreWithoutNext: true }, 12, async (s) => {
    const got: StixObject[] = [];
    for await (const p of client().objects(s.apiRoot, 'quirks', { limit: 5 })) got.push(...p.items);
    assert.deepEqual(ids(got), expected(12));
  });
});

test('without date headers an expired token cannot be resumed: a coded error, not a silent gap', async () => {
  await withServer({ pageCap: 4, omitDateHeaders: true }, 10, async (s) => {
    const c = client();
    await assert.rejects((async () => {
      let pages = 0;
      for await (const _ of c.objects(s.apiRoot, 'quirks', { limit: 4 })) if (++pages === 1) s.expireAllTokens();
    })(), { code: 'DE_TAXII_NOT_FOUND' });
  });
});

test('429 with Retry-After is retried; without retries it is DE_TAXII_SERVER', async () => {
  await withServer({ throttleFirst: 2 }, 2, async (s) => {
    await assert.rejects(client(0).collections(s.apiRoot), { code: 'DE_TAXII_SERVER', status: 429 });
    assert.equal((await client(3).collections(s.apiRoot)).length, 1);
    assert.deepEqual(s.log.map((r) => r.status), [429, 429, 200]);
  });
});

test('adding objects: a pending status is polled until complete', async () => {
  await withServer({ pendingPolls: 2 }, 0, async (s) => {
    const c = client();
    const first = await c.addObjects(s.apiRoot, 'quirks', [indicator(1), indicator(2)]);
    assert.equal(first.status, 'pending');
    const done = await c.waitForStatus(s.apiRoot, first, { pollMs: 5, maxPolls: 10 });
    assert.equal(done.status, 'complete');
    assert.equal(done.success_count, 2);
    assert.equal(s.log.filter((r) => r.url.includes('/status/')).length, 3);
  });
});
