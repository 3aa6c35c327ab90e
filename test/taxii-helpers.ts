// Test helpers for TAXII: our own server (the fastify plugin on a real loopback port, backed by a
// real SQLite store) and STIX indicators to fill it with.

import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMemoryStore, type Db } from '../src/store/open-store.ts';
import { SqliteTaxiiStorage } from '../src/intel/taxii/server/sqlite-taxii-storage.ts';
import { taxiiServer, type TaxiiServerOptions } from '../src/intel/taxii/server/taxii-server.ts';

export const COLLECTION = '91a7b528-80eb-42ed-a74d-c6fbd5a26116';
export const WRITABLE = 'b3f1d2a4-1111-4222-8333-444455556666';

export interface OurServer {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly storage: SqliteTaxiiStorage;
  /** http://127.0.0.1:PORT/taxii/api1/ */
  readonly apiRoot: string;
  readonly discovery: string;
  /** Every request's method and URL, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** `setup` runs before the server listens (fastify refuses hooks after that). */
export async function startOurServer(opts: Partial<TaxiiServerOptions> = {}, setup: (app: FastifyInstance) => void = () => {}): Promise<OurServer> {
  const db = openMemoryStore();
  const storage = new SqliteTaxiiStorage(db);
  storage.createCollection({ id: COLLECTION, apiRoot: 'api1', title: 'Indicators', canRead: true, canWrite: true });
  storage.createCollection({ id: WRITABLE, apiRoot: 'api1', title: 'Sightings', canRead: true, canWrite: true });
  const app = Fastify({ logger: false });
  const requests: string[] = [];
  app.addHook('onRequest', async (req) => { requests.push(`${req.method} ${req.url}`); });
  setup(app);
  await app.register(taxiiServer, { prefix: '/taxii', storage, apiRoots: [{ name: 'api1', title: 'API root one' }], ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app, db, storage, requests,
    apiRoot: `http://127.0.0.1:${port}/taxii/api1/`,
    discovery: `http://127.0.0.1:${port}/taxii/taxii2/`,
    close: async () => { await app.close(); db.close(); },
  };
}

export function uuid(n: number, prefix = '0000'): string {
  return `${prefix.padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** A valid STIX 2.1 indicator number `n` (a file hash pattern), with overrides. */
export function indicator(n: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${uuid(n)}`,
    created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
    name: `Bad file ${n}`, indicator_types: ['malicious-activity'],
    pattern: `[file:hashes.'SHA-256' = '${n.toString(16).padStart(64, '0')}']`, pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }],
    ...over,
  };
}

export const silentLog = { error() {}, warn() {}, info() {}, debug() {} };

/** A test CA, a server certificate for 127.0.0.1 and a client certificate (openssl), in a temp dir. */
export function makePki(): { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'taxii-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test TAXII CA');
  const exts = { server: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', client: 'extendedKeyUsage=clientAuth\n' };
  for (const name of ['server', 'client'] as const) {
    execFileSync('sh', ['-c', `printf '%s' "$0" > ${name}.ext`, exts[name]], { cwd: dir });
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'localhost' : 'agent-1'}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  return { dir };
}
