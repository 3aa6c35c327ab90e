// TAXII 2.1 feed sync (issue #6): a full sync of BENCH_TAXII_OBJECTS indicators from our TAXII
// server module over loopback HTTP into a fresh store (pattern compile included), then an idle
// incremental sync and one picking up 1% new objects. Server and client share this process (and
// its CPU), so the figures are a floor for either side. There is no peer tool to compare with: no
// TAXII client on npm pages, bounds and resumes as this one does (see docs/taxii.md).
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMemoryStore, openStoreForWriting, storePath } from '../src/store/open-store.ts';
import { SqliteTaxiiStorage } from '../src/intel/taxii/server/sqlite-taxii-storage.ts';
import { taxiiServer } from '../src/intel/taxii/server/taxii-server.ts';
import { TaxiiClient } from '../src/intel/taxii/taxii-client.ts';
import { TaxiiTransport } from '../src/intel/taxii/http-transport.ts';
import { IntelStore } from '../src/intel/feeds/intel-store.ts';
import { syncFeed } from '../src/intel/feeds/feed-sync.ts';
import { compileStixPattern } from '../src/intel/feeds/pattern-compiler.ts';
import { fmt } from './bench-utils.ts';

const N = Number(process.env['BENCH_TAXII_OBJECTS'] ?? 50_000);
const PAGE = Number(process.env['BENCH_TAXII_PAGE'] ?? 1000);

function indicator(n: number): Record<string, unknown> {
  const hex = n.toString(16).padStart(12, '0');
  const kind = n % 4;
  const pattern = kind === 0 ? `[file:hashes.'SHA-256' = '${n.toString(16).padStart(64, '0')}']`
    : kind === 1 ? `[ipv4-addr:value = '10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}']`
      : kind === 2 ? `[domain-name:value = 'bad${n}.example.com']`
        : `[process:name = 'x${n}' AND process:command_line MATCHES '^-e /bin/(ba)?sh'] FOLLOWEDBY [network-traffic:dst_port = 4444] WITHIN 60 SECONDS`;
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--00000000-0000-4000-8000-${hex}`, created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z',
    name: `indicator ${n}`, indicator_types: ['malicious-activity'], pattern, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
    kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }],
  };
}

const serverDb = openMemoryStore();
const storage = new SqliteTaxiiStorage(serverDb);
storage.createCollection({ id: 'bench', apiRoot: 'api1', title: 'bench', canRead: true, canWrite: true });
let t = performance.now();
for (let i = 0; i < N; i += 5000) storage.add('bench', Array.from({ length: Math.min(5000, N - i) }, (_, k) => indicator(i + k + 1)));
const loadMs = performance.now() - t;
const app = Fastify({ logger: false });
let bytes = 0;
app.addHook('onSend', async (_req, _reply, payload) => { if (Buffer.isBuffer(payload)) bytes += payload.length; return payload; });
await app.register(taxiiServer, { prefix: '/taxii', storage, apiRoots: [{ name: 'api1', title: 'bench' }], maxPageSize: PAGE });
await app.listen({ host: '127.0.0.1', port: 0 });
const apiRoot = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/taxii/api1/`;

const dir = mkdtempSync(join(tmpdir(), 'taxii-bench-'));
const db = openStoreForWriting(storePath(dir));
const store = new IntelStore(db, compileStixPattern);
const transport = new TaxiiTransport({ retries: 0 });
const client = new TaxiiClient(transport);
const feed = { name: 'bench', url: apiRoot, collectionId: 'bench', auth: null, tls: null, types: ['indicator'], pageSize: PAGE, timeoutMs: 60_000, maxResponseBytes: 256 << 20 };

const rss0 = process.memoryUsage().rss;
t = performance.now();
const full = await syncFeed(store, client, feed);
const fullMs = performance.now() - t;
const rss1 = process.memoryUsage().rss;
t = performance.now();
const idle = await syncFeed(store, client, feed);
const idleMs = performance.now() - t;
const extra = Math.max(1, Math.floor(N / 100));
storage.add('bench', Array.from({ length: extra }, (_, k) => indicator(N + k + 1)));
t = performance.now();
const inc = await syncFeed(store, client, feed);
const incMs = performance.now() - t;

console.log(`TAXII 2.1 sync over loopback (server and client in one process), ${N} indicators, page size ${PAGE}`);
console.log(`  server load:         ${fmt(N / loadMs * 1000, 0)} objects/s added (SQLite storage)`);
console.log(`  full sync:           ${fmt(full.objects / fullMs * 1000, 0)} indicators/s (${full.pages} pages, ${fmt(bytes / 1048576, 1)} MB, ${fmt(fullMs / 1000, 2)} s, patterns compiled, ${full.added} stored)`);
console.log(`  RSS growth:          ${fmt((rss1 - rss0) / 1048576, 1)} MB during the full sync (pages are stored as they arrive)`);
console.log(`  idle incremental:    ${fmt(idleMs, 1)} ms (${idle.objects} objects)`);
console.log(`  1% new incremental:  ${fmt(incMs, 1)} ms for ${inc.objects} objects (${inc.pages} page(s))`);
if (full.error || idle.error || inc.error) console.log(`  errors: ${full.error?.code} ${idle.error?.code} ${inc.error?.code}`);
transport.close();
await app.close();
db.close();
serverDb.close();
rmSync(dir, { recursive: true, force: true });
