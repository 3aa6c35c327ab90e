// Incremental feed sync into the store, against our TAXII server on loopback: cursors, newer
// versions, revocation, validity windows, pattern compile errors, and a sync killed (SIGKILL) in
// the middle that resumes without fetching anything twice or missing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMemoryStore, openStoreReadOnly, storePath } from '../src/store/open-store.ts';
import { IntelStore } from '../src/intel/feeds/intel-store.ts';
import { syncFeed } from '../src/intel/feeds/feed-sync.ts';
import { compileStixPattern } from '../src/intel/feeds/pattern-compiler.ts';
import type { FeedSpec } from '../src/intel/feeds/feed-spec.ts';
import { TaxiiClient } from '../src/intel/taxii/taxii-client.ts';
import { TaxiiTransport } from '../src/intel/taxii/http-transport.ts';
import { COLLECTION, indicator, startOurServer } from './taxii-helpers.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

/** Runs the CLI without blocking this process (the TAXII server under test lives here). */
function cli(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function feed(url: string, over: Partial<FeedSpec> = {}): FeedSpec {
  return { name: 'test', url, collectionId: COLLECTION, auth: null, tls: null, types: ['indicator'], pageSize: 10, timeoutMs: 5000, maxResponseBytes: 1 << 20, ...over };
}

test('sync stores indicators, then fetches only what was added since; newer versions replace, revocations mark, older versions are ignored', async () => {
  const s = await startOurServer();
  const db = openMemoryStore();
  const store = new IntelStore(db, compileStixPattern);
  const client = new TaxiiClient(new TaxiiTransport({ retries: 0 }));
  try {
    s.storage.add(COLLECTION, [
      ...Array.from({ length: 23 }, (_, i) => indicator(i + 1)),
      indicator(50, { pattern: "[file:name = 'x' AND", name: 'broken pattern' }),
      indicator(51, { pattern_type: 'sigma', pattern: 'title: x' }),
      indicator(52, { valid_until: '2026-02-01T00:00:00Z', labels: ['apt'], confidence: 80 }),
      { type: 'malware', spec_version: '2.1', id: 'malware--00000000-0000-4000-8000-000000000001', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', name: 'x', is_family: false },
    ]);
    const first = await syncFeed(store, client, feed(s.apiRoot));
    assert.equal(first.error, null);
    assert.equal(first.objects, 26); // match[type]=indicator: the malware object is not fetched
    assert.equal(first.pages, 3);
    assert.equal(first.added, 26);
    const count = () => (db.prepare('SELECT count(*) AS n FROM intel_indicators').get() as { n: number }).n;
    assert.equal(count(), 26);
    const row = db.prepare('SELECT * FROM intel_indicators WHERE indicator_id = ?').get(indicator(52).id) as Record<string, unknown>;
    assert.equal(row.valid_from, Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(row.valid_until, Date.parse('2026-02-01T00:00:00Z'));
    assert.deepEqual(JSON.parse(row.labels as string), ['malicious-activity', 'apt']);
    assert.deepEqual(JSON.parse(row.kill_chain_phases as string), [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }]);
    assert.equal(row.confidence, 80);
    assert.equal(row.compile_error, null);
    assert.deepEqual(JSON.parse(row.object as string), indicator(52, { valid_until: '2026-02-01T00:00:00Z', labels: ['apt'], confidence: 80 }));
    const broken = db.prepare('SELECT compile_error FROM intel_indicators WHERE indicator_id = ?').pluck().get(indicator(50).id) as string;
    assert.match(broken, /^DE_STIX_PATTERN/);
    assert.equal(db.prepare('SELECT compile_error FROM intel_indicators WHERE indicator_id = ?').pluck().get(indicator(51).id), null);
    const cursor = store.feed('test')!.added_after;
    assert.equal(cursor, first.cursor);

    s.requests.length = 0;
    const idle = await syncFeed(store, client, feed(s.apiRoot));
    assert.equal(idle.objects, 0);
    assert.equal(s.requests.length, 1);
    assert.ok(s.requests[0]!.includes(`added_after=${encodeURIComponent(cursor!)}`), s.requests[0]);

    s.storage.add(COLLECTION, [
      indicator(3, { modified: '2026-03-01T00:00:00Z', name: 'v2 of 3' }),
      indicator(4, { modified: '2026-03-01T00:00:00Z', revoked: true }),
      indicator(60),
    ]);
    const third = await syncFeed(store, client, feed(s.apiRoot));
    assert.deepEqual({ objects: third.objects, added: third.added, replaced: third.replaced, revoked: third.revoked }, { objects: 3, added: 1, replaced: 2, revoked: 1 });
    assert.equal(db.prepare('SELECT name FROM intel_indicators WHERE indicator_id = ?').pluck().get(indicator(3).id), 'v2 of 3');
    assert.equal(db.prepare('SELECT revoked FROM intel_indicators WHERE indicator_id = ?').pluck().get(indicator(4).id), 1);
    assert.equal(count(), 27);

    // An older version arriving later (another feed, a replayed page) never replaces a newer one.
    const out = store.storePage('test', [indicator(3, { modified: '2026-02-01T00:00:00.999Z', name: 'stale' })], null);
    assert.equal(out.older, 1);
    assert.equal(db.prepare('SELECT name FROM intel_indicators WHERE indicator_id = ?').pluck().get(indicator(3).id), 'v2 of 3');
    assert.equal(store.feed('test')!.added_after, third.cursor, 'a page without a date header leaves the cursor');
  } finally {
    await s.close();
    db.close();
  }
});

test('a feed pointed at another collection starts over instead of reusing a foreign cursor', async () => {
  const db = openMemoryStore();
  const store = new IntelStore(db);
  store.ensureFeed('f', 'https://a.example/api1/', 'c1');
  store.storePage('f', [indicator(1)], '2026-05-05T00:00:00Z');
  assert.equal(store.feed('f')!.added_after, '2026-05-05T00:00:00Z');
  assert.equal(store.ensureFeed('f', 'https://a.example/api1/', 'c2').added_after, null);
  db.close();
});

function writeConfig(dir: string, apiRoot: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, [
    'enterprise:',
    '  stix_taxii:',
    '    enable_integration: true',
    `    taxii_endpoint: ${apiRoot}`,
    `    collection_id: ${COLLECTION}`,
    '    page_size: 5',
    '    timeout_ms: 60000',
  ].join('\n'));
  return file;
}

test('`intel sync` killed with SIGKILL mid-sync resumes after the last stored page: nothing fetched twice, nothing missed', async () => {
  const N = 37;
  const served: string[] = [];
  const pageRequests: string[] = [];
  let hang: (() => void) | null = null;
  const heldRequests = new WeakSet<object>();
  let holding: (v: void) => void = () => {};
  const held = new Promise<void>((r) => { holding = r; });
  const s = await startOurServer({}, (app) => {
  app.addHook('onRequest', async (req) => {
    if (!req.url.includes('/objects/')) return;
    pageRequests.push(req.url);
    // The 4th page request: pages 1-3 are stored (the client asks for a page only after storing
    // the previous one). Hold it until the test has killed the client.
    if (pageRequests.length === 4 && hang === null) {
      heldRequests.add(req);
      await new Promise<void>((release) => { hang = release; holding(); });
    }
  });
  app.addHook('onSend', async (req, _reply, payload) => {
    // The held request's answer goes to a client already killed: it was never fetched.
    if (req.url.includes('/objects/') && Buffer.isBuffer(payload) && !heldRequests.has(req)) {
      for (const o of (JSON.parse(payload.toString()) as { objects?: { id: string }[] }).objects ?? []) served.push(o.id);
    }
    return payload;
  });
  });
  s.storage.add(COLLECTION, Array.from({ length: N }, (_, i) => indicator(i + 1)));
  const dir = mkdtempSync(join(tmpdir(), 'intel-resume-'));
  const cfg = writeConfig(dir, s.apiRoot);
  try {
    const child = spawn(process.execPath, [MAIN, '--config', cfg, '--data-dir', dir, 'intel', 'sync'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    await held;
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    hang!();
    assert.equal(served.length, 15, 'three pages of five were served before the kill');
    const mid = openStoreReadOnly(storePath(dir));
    assert.equal((mid.prepare('SELECT count(*) AS n FROM intel_indicators').get() as { n: number }).n, 15);
    const cursorAfterKill = mid.prepare('SELECT added_after FROM intel_feeds').pluck().get() as string;
    mid.close();

    pageRequests.length = 0;
    const resumed = await cli(['--config', cfg, '--data-dir', dir, 'intel', 'sync']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.ok(pageRequests[0]!.includes(`added_after=${encodeURIComponent(cursorAfterKill)}`), pageRequests[0]);
    assert.deepEqual([...served].sort(), Array.from({ length: N }, (_, i) => indicator(i + 1).id as string).sort(), 'every object served exactly once');
    assert.match(resumed.stdout, /default: 22 objects in 5 page\(s\), 22 new, 0 updated/);
    assert.match(resumed.stderr, /default: page 1, 5 objects, 5 stored/);
    const db = openStoreReadOnly(storePath(dir));
    assert.equal((db.prepare('SELECT count(*) AS n FROM intel_indicators').get() as { n: number }).n, N);
    db.close();

    const list = await cli(['--config', cfg, '--data-dir', dir, 'intel', 'list', '--active', '--format', 'json']);
    assert.equal(list.status, 0, list.stderr);
    assert.equal((JSON.parse(list.stdout) as unknown[]).length, N);
  } finally {
    await s.close();
  }
});

test('a sync cancelled by its signal stops after the page in hand, is not a feed error, and the next one resumes', async () => {
  const s = await startOurServer();
  const db = openMemoryStore();
  const store = new IntelStore(db);
  try {
    s.storage.add(COLLECTION, Array.from({ length: 30 }, (_, i) => indicator(i + 1)));
    const stop = new AbortController();
    const client = new TaxiiClient(new TaxiiTransport({ retries: 0, signal: stop.signal }));
    const cut = await syncFeed(store, client, feed(s.apiRoot), (p) => { if (p.pages === 2) stop.abort(); }, stop.signal);
    assert.deepEqual([cut.interrupted, cut.error, cut.objects], [true, null, 20]);
    assert.equal(store.feed('test')!.last_error, null);
    const rest = await syncFeed(store, new TaxiiClient(new TaxiiTransport({ retries: 0 })), feed(s.apiRoot));
    assert.deepEqual([rest.interrupted, rest.objects, rest.added], [false, 10, 10]);
  } finally {
    await s.close();
    db.close();
  }
});
