import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElasticsearchSink, indexFor } from './elasticsearch-sink.ts';
import { SinkDeliveryError } from './sink-error.ts';
import { sampleAlert } from './testing/alerts.ts';
import { HttpsReceiver } from './testing/https-receiver.ts';
import { testPki } from './testing/test-cert.ts';

const sink = (url: string, extra: Partial<ConstructorParameters<typeof ElasticsearchSink>[0]> = {}) => new ElasticsearchSink({
  name: 'es', url, index: 'daemoneye-alerts', gzip: true, timeoutMs: 5000, tls: { ca: testPki().ca }, version: '1', ...extra,
});

/** A _bulk answer with the given item statuses. */
const bulk = (...statuses: number[]) => JSON.stringify({
  errors: statuses.some((s) => s >= 300),
  items: statuses.map((status) => ({ create: { status, ...(status >= 300 ? { error: { type: status === 409 ? 'version_conflict_engine_exception' : status === 429 ? 'es_rejected_execution_exception' : 'mapper_parsing_exception', reason: 'x' } } : {}) } })),
});

async function outcome(s: ElasticsearchSink, n: number): Promise<SinkDeliveryError | 'ok'> {
  try {
    await s.deliver(Array.from({ length: n }, () => sampleAlert()));
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof SinkDeliveryError);
    return e;
  }
}

test('_bulk item results: 409 (already there) is success; retryable only if every failure is 429/5xx', async () => {
  const r = await HttpsReceiver.start();
  const s = sink(r.url());
  try {
    const cases: [number[], 'ok' | boolean][] = [
      [[201, 201], 'ok'],
      [[201, 409], 'ok'],
      [[409, 409], 'ok'],
      [[201, 429], true],
      [[503, 429], true],
      [[201, 400], false],
      [[429, 400], false],
    ];
    for (const [statuses, want] of cases) {
      r.reply = () => ({ status: 200, body: bulk(...statuses) });
      const got = await outcome(s, statuses.length);
      if (want === 'ok') assert.equal(got, 'ok', `${statuses}: ${got === 'ok' ? '' : got.message}`);
      else assert.ok(got !== 'ok' && got.retryable === want, `${statuses}: ${got === 'ok' ? 'ok' : got.message}`);
    }
    r.reply = () => ({ status: 200, body: '{"errors":true,"items":[{"create":{"status":201}}]}' });
    assert.match((await outcome(s, 2) as SinkDeliveryError).message, /1 items for 2 alerts/);
  } finally {
    await s.close();
    await r.close();
  }
});

test('a replayed batch is idempotent: the second delivery answers 409s and succeeds', async () => {
  const r = await HttpsReceiver.start();
  const stored = new Set<string>();
  r.reply = (req) => {
    const lines = req.body.toString('utf8').trimEnd().split('\n');
    const statuses: number[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const id = (JSON.parse(lines[i]!) as { create: { _id: string } }).create._id;
      statuses.push(stored.has(id) ? 409 : 201);
      stored.add(id);
    }
    return { status: 200, body: bulk(...statuses) };
  };
  const s = sink(r.url());
  try {
    const alerts = [sampleAlert(), sampleAlert()];
    await s.deliver(alerts);
    await s.deliver(alerts);
    assert.equal(stored.size, 2);
  } finally {
    await s.close();
    await r.close();
  }
});

test('basic auth, no gzip, and index names from the alert date', async () => {
  const r = await HttpsReceiver.start();
  r.reply = () => ({ status: 200, body: bulk(201) });
  const s = sink(r.url(), { username: 'elastic', password: 'changeme-123', gzip: false, index: 'de-{yyyy}.{MM}-{dd}' });
  try {
    await s.deliver([sampleAlert({ first_seen: '2025-12-31T23:59:59.999Z' })]);
    const req = r.requests[0]!;
    assert.equal(req.headers['authorization'], `Basic ${Buffer.from('elastic:changeme-123').toString('base64')}`);
    assert.equal(req.headers['content-encoding'], undefined);
    assert.match(req.body.toString('utf8'), /"_index":"de-2025\.12-31"/);
  } finally {
    await s.close();
    await r.close();
  }
  assert.equal(indexFor('a-{yyyy.MM.dd}', { first_seen: '2026-01-02T00:00:00.000Z' }), 'a-2026.01.02');
  assert.equal(indexFor('plain', { first_seen: '2026-01-02T00:00:00.000Z' }), 'plain');
});
