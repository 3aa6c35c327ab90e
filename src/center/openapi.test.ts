// The OpenAPI document the center serves names every route the center registers (and nothing
// else), and is reachable without a client certificate.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../agent/logger.ts';
import { defaultConfig } from '../config/schema.ts';
import { initCenter } from './center-init.ts';
import { startFederatedCenter } from './run-center.ts';
import { rawRequest } from './testing/center-harness.ts';
import { readFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'de-openapi-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('every registered route is in the served OpenAPI document, and only those', async () => {
  await initCenter({ dataDir: dir, listen: '127.0.0.1:0' });
  const { center } = await startFederatedCenter({ dataDir: dir, listen: '127.0.0.1:0', log: silentLogger, config: defaultConfig() });
  try {
    const r = await rawRequest(center.url, { ca: readFileSync(join(dir, 'pki', 'ca.pem'), 'utf8'), path: '/api/v1/openapi.json' });
    assert.equal(r.status, 200);
    const doc = JSON.parse(r.body) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    // The /taxii2/ routes are specified by OASIS (TAXII 2.1), not by our OpenAPI document (docs/center.md).
    const served = center.routes.filter((x) => x !== 'GET /healthz' && !x.split(' ')[1]!.startsWith('/taxii2')).map((x) => x.replace(/:(\w+)/g, '{$1}')).sort();
    assert.deepEqual(served, documented);
  } finally {
    await center.close();
  }
});
