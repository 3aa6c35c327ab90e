// TAXII settings through the real config loader and CLI: ${VAR} secrets are expanded, used, and
// printed redacted; a missing variable is a coded error naming the key and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { configuredFeeds, transportAuth } from '../src/intel/feeds/feed-spec.ts';
import { syncFeeds } from '../src/intel/feeds/intel-feed-service.ts';
import { configSchema } from '../src/config/schema.ts';
import { openMemoryStore } from '../src/store/open-store.ts';
import { SqliteTaxiiStorage } from '../src/intel/taxii/server/sqlite-taxii-storage.ts';
import { taxiiServer } from '../src/intel/taxii/server/taxii-server.ts';
import { COLLECTION, indicator, makePki } from './taxii-helpers.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

function file(): string {
  const f = join(mkdtempSync(join(tmpdir(), 'taxii-cfg-')), 'config.yaml');
  writeFileSync(f, [
    'enterprise:',
    '  stix_taxii:',
    '    taxii_endpoint: https://cti.example.com/api1/',
    '    collection_id: abc',
    '    auth: {type: bearer, token: "${CTI_TOKEN}"}',
    '    feeds:',
    '      - name: isac',
    '        url: https://isac.example/api/',
    '        collection_id: x',
    '        page_size: 50',
    '        auth: {type: basic, username: me, password: "${ISAC_PW}"}',
    '      - name: off',
    '        enabled: false',
    '        url: https://off.example/api/',
    '        collection_id: y',
  ].join('\n'));
  return f;
}

test('${VAR} secrets reach the transport but print as [redacted]', () => {
  const f = file();
  const { config } = loadConfig({ configFile: f, systemFile: null, userFile: null, env: { CTI_TOKEN: 'tok-aaa', ISAC_PW: 'pw-bbb' } });
  const feeds = configuredFeeds(config.enterprise.stix_taxii);
  assert.deepEqual(feeds.map((x) => [x.name, x.pageSize]), [['default', 1000], ['isac', 50]]);
  assert.deepEqual(transportAuth(feeds[0]!.auth), { type: 'bearer', token: 'tok-aaa' });
  assert.deepEqual(transportAuth(feeds[1]!.auth), { type: 'basic', username: 'me', password: 'pw-bbb' });
  const printed = spawnSync(process.execPath, [MAIN, 'config', 'check', f, '--print'], { encoding: 'utf8', env: { ...process.env, CTI_TOKEN: 'tok-aaa', ISAC_PW: 'pw-bbb' } });
  assert.equal(printed.status, 0, printed.stderr);
  assert.doesNotMatch(printed.stdout, /tok-aaa|pw-bbb/);
  assert.match(printed.stdout, /"token": "\[redacted\]"/);
  const missing = spawnSync(process.execPath, [MAIN, 'config', 'check', f], { encoding: 'utf8', env: { ...process.env, CTI_TOKEN: 'tok-aaa', ISAC_PW: '' } });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /DE_CONFIG_INVALID[\s\S]*config\.yaml:11:\d+: enterprise\.stix_taxii\.feeds\[0\]\.auth\.password/);
});

test('intel commands without feeds, or with an unknown feed, say so with a code and hint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taxii-cli-'));
  const none = spawnSync(process.execPath, [MAIN, '--data-dir', dir, 'intel', 'sync'], { encoding: 'utf8', env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir } });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /DE_INTEL_NO_FEEDS[\s\S]*hint: /);
  const f = file();
  const unknown = spawnSync(process.execPath, [MAIN, '--config', f, '--data-dir', dir, 'intel', 'sync', '--feed', 'nope'], { encoding: 'utf8', env: { ...process.env, CTI_TOKEN: 'a', ISAC_PW: 'b' } });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /DE_INTEL_FEED_UNKNOWN: no feed named "nope" \(configured: default, isac\)/);
  const share = spawnSync(process.execPath, [MAIN, '--config', f, '--data-dir', dir, 'intel', 'share'], { encoding: 'utf8', env: { ...process.env, CTI_TOKEN: 'a', ISAC_PW: 'b' } });
  assert.equal(share.status, 2);
  assert.match(share.stderr, /DE_INTEL_NO_SHARE/);
  const help = spawnSync(process.execPath, [MAIN, 'intel', 'sync', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /Examples:\n  daemoneye intel sync/);
});

test('feed TLS settings from the config: custom CA and client certificate against a mutual-TLS TAXII server; an unreadable file is DE_INTEL_TLS_FILE', async (t) => {
  let pki: { dir: string };
  try {
    pki = makePki();
  } catch (e) {
    t.skip(`openssl not usable here: ${(e as Error).message}`);
    return;
  }
  const f = (n: string) => join(pki.dir, n);
  const db = openMemoryStore();
  const storage = new SqliteTaxiiStorage(db);
  storage.createCollection({ id: COLLECTION, apiRoot: 'api1', title: 'mTLS', canRead: true, canWrite: false });
  storage.add(COLLECTION, [indicator(1), indicator(2), indicator(3)]);
  const app = Fastify({ https: { key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')), ca: readFileSync(f('ca.pem')), requestCert: true, rejectUnauthorized: true } });
  await app.register(taxiiServer, { prefix: '/taxii', storage, apiRoots: [{ name: 'api1', title: 'mTLS root' }] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}/taxii/api1/`;
  const store = openMemoryStore();
  try {
    const config = configSchema.parse({ enterprise: { stix_taxii: { feeds: [
      { name: 'mtls', url, collection_id: COLLECTION, tls: { ca_file: f('ca.pem'), cert_file: f('client.pem'), key_file: f('client.key') } },
      { name: 'no-client-cert', url, collection_id: COLLECTION, tls: { ca_file: f('ca.pem') } },
    ] } } });
    const [ok, refused] = await syncFeeds(store, configuredFeeds(config.enterprise.stix_taxii));
    assert.deepEqual([ok!.added, ok!.error], [3, null]);
    assert.equal(refused!.error?.code, 'DE_TAXII_NETWORK');
    const missing = configSchema.parse({ enterprise: { stix_taxii: { feeds: [{ name: 'x', url, collection_id: COLLECTION, tls: { ca_file: f('nope.pem') } }] } } });
    await assert.rejects(syncFeeds(store, configuredFeeds(missing.enterprise.stix_taxii)), { code: 'DE_INTEL_TLS_FILE' });
  } finally {
    await app.close();
    db.close();
    store.close();
  }
});
