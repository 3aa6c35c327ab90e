// Enrolment, as kubeadm's token discovery does it: fetch the center's CA over TLS without trusting
// it, accept it only if the SHA-256 of its public key equals the hash in the token, then talk to
// the center with that CA as the only trust anchor to trade the token and a CSR for a certificate.
// The private key is generated here and never leaves this host.
import { get } from 'node:https';
import { hostname } from 'node:os';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { parseToken } from '../center/enrollment-token.ts';
import { createCsr, generateKeyPair, spkiSha256 } from '../center/pki/x509.ts';
import { CenterHttp } from './center-http.ts';
import { identityDir, loadIdentity, saveIdentity, type Identity } from './identity.ts';

/** GETs the CA without verifying the server: what it returns is checked against the pin, not trusted. */
function fetchUnverifiedCa(base: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(new URL('/api/v1/enroll/ca', base), { rejectUnauthorized: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (chunks.reduce((n, x) => n + x.length, 0) > 64 * 1024) req.destroy(new Error('answer too large'));
      });
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ca_pem?: unknown };
          if (typeof body.ca_pem !== 'string') throw new Error('no ca_pem in the answer');
          resolve(body.ca_pem);
        } catch (e) {
          reject(new DaemonEyeError('DE_ENROLL_PIN', `${base.origin} did not answer like a DaemonEye center: ${(e as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (e) => reject(new DaemonEyeError('DE_ENROLL_UNREACHABLE', `cannot reach ${base.origin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e })));
  });
}

export interface EnrollOptions {
  readonly centerUrl: string;
  readonly token: string;
  readonly dataDir: string;
  readonly name?: string | undefined;
}

export async function enroll(o: EnrollOptions): Promise<Identity> {
  const token = parseToken(o.token);
  let base: URL;
  try {
    base = new URL(o.centerUrl);
  } catch {
    throw new DaemonEyeError('DE_USAGE', `--center takes the center's URL (https://HOST:PORT), not "${o.centerUrl}"`);
  }
  if (base.protocol !== 'https:') throw new DaemonEyeError('DE_USAGE', `--center must be an https:// URL, not ${base.protocol}//`);
  const caPem = await fetchUnverifiedCa(base);
  let got: string;
  try {
    got = spkiSha256(caPem);
  } catch {
    throw new DaemonEyeError('DE_ENROLL_PIN', `${base.origin} sent a CA that is not a certificate`);
  }
  if (got !== token.caSha256) {
    throw new DaemonEyeError('DE_ENROLL_PIN', `the CA at ${base.origin} has public key hash ${got}, the token expects ${token.caSha256}`);
  }
  const key = await generateKeyPair();
  const name = o.name ?? hostname();
  const http = new CenterHttp(base.href, { ca: caPem });
  try {
    const r = await http.send<{ id?: string; role?: string; cert_pem?: string; ca_pem?: string; reason?: string; message?: string }>('POST', '/api/v1/enroll', {
      token: o.token.trim(), csr: await createCsr(key, name), name,
    });
    if (r.status === 401) throw new DaemonEyeError('DE_ENROLL_TOKEN', `the center refused the token (${r.body?.reason ?? r.status})`);
    if (r.status !== 201 || typeof r.body?.cert_pem !== 'string') {
      throw new DaemonEyeError('DE_CENTER_REQUEST', `enrolment failed: HTTP ${r.status} ${r.body?.message ?? ''}`);
    }
    const dir = identityDir(o.dataDir);
    saveIdentity(dir, {
      center_url: base.origin, id: r.body.id!, role: r.body.role as 'agent', ca_sha256: token.caSha256,
      enrolled_at: new Date().toISOString(), keyPem: key.privateKeyPem, certPem: r.body.cert_pem, caPem,
    });
    return loadIdentity(dir);
  } finally {
    http.close();
  }
}

/**
 * Certificate rotation: a new key and CSR, signed over mutual TLS with the current certificate,
 * then the identity files are replaced atomically. The agent's store (and its outbox) is untouched,
 * so nothing waiting for delivery is lost; the old certificate stays valid until it expires.
 */
export async function renew(identity: Identity): Promise<Identity> {
  const key = await generateKeyPair();
  const http = CenterHttp.forIdentity(identity);
  try {
    const r = await http.json<{ cert_pem: string; ca_pem: string }>('POST', '/api/v1/renew', { csr: await createCsr(key, identity.id) });
    saveIdentity(identity.dir, { ...identity, keyPem: key.privateKeyPem, certPem: r.cert_pem, caPem: r.ca_pem });
    return loadIdentity(identity.dir);
  } finally {
    http.close();
  }
}

/** Renew when less than a third of the certificate's lifetime is left. */
export function renewalDue(identity: Identity, now = Date.now()): boolean {
  const life = identity.notAfter.getTime() - identity.notBefore.getTime();
  return identity.notAfter.getTime() - now < life / 3;
}
