// `daemoneye center init`: the center's CA (10 years), its server certificate, its database, and an
// analyst identity for the CLI on the center host. Nothing is overwritten: agents trust this CA.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { isIP } from 'node:net';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { saveIdentity } from '../center-client/identity.ts';
import { centerPaths } from './center-paths.ts';
import { centerSettingsSchema, databaseLocation, type CenterSettings } from './center-settings.ts';
import { CenterRepo } from './center-repo.ts';
import { openCenterDb } from './db/open-center-db.ts';
import { createCa, generateKeyPair, importPrivateKey, issueCertificate, spkiSha256 } from './pki/x509.ts';
import { X509Certificate } from 'node:crypto';

const CA_DAYS = 3650;
const SERVER_DAYS = 825;

export interface InitOptions {
  readonly dataDir: string;
  readonly listen?: string | undefined;
  readonly database?: string | undefined;
  /** Extra DNS names or IPs agents use to reach the center (the server certificate names them). */
  readonly serverNames?: readonly string[] | undefined;
}

export interface InitResult {
  readonly centerId: string;
  readonly caSha256: string;
  readonly settings: CenterSettings;
}

const writeFile = (path: string, data: string, mode: number) => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, data, { mode, flag: 'wx' });
};

export async function initCenter(o: InitOptions): Promise<InitResult> {
  const p = centerPaths(o.dataDir);
  if (existsSync(p.caCert) || existsSync(p.config)) {
    throw new DaemonEyeError('DE_CENTER_EXISTS', `a center already lives in ${o.dataDir} (${existsSync(p.config) ? p.config : p.caCert})`);
  }
  const centerId = randomUUID();
  const settings = centerSettingsSchema.parse({
    center_id: centerId, database: o.database ?? 'sqlite', listen: o.listen ?? '0.0.0.0:8443', server_names: [...(o.serverNames ?? [])],
  });
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  // The database first: a bad postgres:// URL fails before any key material is written.
  const opened = await openCenterDb(databaseLocation(o.dataDir, settings));
  try {
    const repo = new CenterRepo(opened.db);
    const existing = await repo.getMeta('center_id');
    if (existing !== undefined) {
      throw new DaemonEyeError('DE_CENTER_EXISTS', `the database already belongs to center ${existing}`, {
        hint: 'several center processes share one database by sharing one data directory (copy its pki/ and center.json), not by running init twice',
      });
    }
    const ca = await createCa(`DaemonEye center ${centerId.slice(0, 8)}`, CA_DAYS);
    const signingKey = await importPrivateKey(ca.key.privateKeyPem);
    const listenHost = settings.listen.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const names = new Set(['localhost', hostname(), ...settings.server_names]);
    const ips = new Set(['127.0.0.1', '::1']);
    if (isIP(listenHost) && listenHost !== '0.0.0.0' && listenHost !== '::') ips.add(listenHost);
    for (const n of [...names]) if (isIP(n)) { names.delete(n); ips.add(n); }
    const serverKey = await generateKeyPair();
    const serverCert = await issueCertificate({ certPem: ca.certPem, signingKey }, serverKey.keys.publicKey, {
      commonName: hostname(), notAfter: new Date(Date.now() + SERVER_DAYS * 86_400_000), server: { dns: [...names], ips: [...ips] },
    });
    writeFile(p.caKey, ca.key.privateKeyPem, 0o600);
    writeFile(p.caCert, ca.certPem, 0o644);
    writeFile(p.serverKey, serverKey.privateKeyPem, 0o600);
    writeFile(p.serverCert, serverCert, 0o644);
    await repo.setMeta('center_id', centerId);
    await repo.setMeta('ca_sha256', spkiSha256(ca.certPem));

    // The admin (analyst) identity, as if enrolled: its certificate is on record like any other.
    const adminId = randomUUID();
    const adminKey = await generateKeyPair();
    const now = Date.now();
    const adminCert = await issueCertificate({ certPem: ca.certPem, signingKey }, adminKey.keys.publicKey, {
      commonName: adminId, notAfter: new Date(now + settings.cert_days * 86_400_000), client: { role: 'analyst', id: adminId },
    });
    await recordCertificate(repo, adminCert, { id: adminId, role: 'analyst', name: `admin@${hostname()}`, centerId, now });
    const port = settings.listen.match(/:(\d+)$/)?.[1] ?? '8443';
    saveIdentity(p.adminIdentity, {
      center_url: `https://localhost:${port}`, id: adminId, role: 'analyst', ca_sha256: spkiSha256(ca.certPem),
      enrolled_at: new Date(now).toISOString(), keyPem: adminKey.privateKeyPem, certPem: adminCert, caPem: ca.certPem,
    });
    writeFile(p.config, JSON.stringify(settings, null, 2) + '\n', 0o600);
    return { centerId, caSha256: spkiSha256(ca.certPem), settings };
  } finally {
    await opened.close();
  }
}

/** Stores a newly issued certificate (and, on first issue, its identity). */
export async function recordCertificate(repo: CenterRepo, certPem: string, who: { id: string; role: string; name: string; centerId: string; now: number }, newIdentity = true): Promise<void> {
  const c = new X509Certificate(certPem);
  if (newIdentity) await repo.addIdentity(who);
  await repo.addCertificate({
    serial: c.serialNumber.toLowerCase().replace(/^0+/, ''), identity_id: who.id, sha256: c.fingerprint256.replace(/:/g, '').toLowerCase(),
    not_before: Date.parse(c.validFrom), not_after: Date.parse(c.validTo), issued_at: who.now, revoked_at: null, revoke_reason: null,
  });
}

/** Serial numbers as Node prints them (upper-case hex, maybe a leading 0) normalised for lookups. */
export const normalSerial = (s: string) => s.toLowerCase().replace(/^0+/, '');
