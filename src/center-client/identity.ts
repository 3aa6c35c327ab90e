// An enrolled identity in a data directory: DATA_DIR/identity/{key.pem, cert.pem, ca.pem,
// identity.json}. The certificate is the identity (the center reads the id from it); identity.json
// only remembers where the center is and what was pinned, so `daemoneye run` needs no flags.
// Files are replaced by write-to-temp + rename, so a crash during rotation leaves the old
// identity or the new one, never half of each.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { DaemonEyeError } from '../errors/catalogue.ts';

export const identityFileSchema = z.strictObject({
  center_url: z.string(),
  id: z.string(),
  role: z.enum(['agent', 'center', 'analyst']),
  ca_sha256: z.string(),
  enrolled_at: z.string(),
});
export type IdentityFile = z.output<typeof identityFileSchema>;

export interface Identity extends IdentityFile {
  readonly dir: string;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  readonly notAfter: Date;
  readonly notBefore: Date;
}

export const identityDir = (dataDir: string) => join(dataDir, 'identity');

export function hasIdentity(dir: string): boolean {
  return existsSync(join(dir, 'identity.json')) && existsSync(join(dir, 'cert.pem'));
}

export function loadIdentity(dir: string): Identity {
  if (!hasIdentity(dir)) {
    throw new DaemonEyeError('DE_ENROLL_MISSING', `no enrolled identity in ${dir}`);
  }
  const meta = identityFileSchema.parse(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')));
  const certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const cert = new X509Certificate(certPem);
  return {
    ...meta, dir, certPem, keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'), caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    notAfter: new Date(cert.validTo), notBefore: new Date(cert.validFrom),
  };
}

function writeAtomically(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Writes (or replaces, on rotation) an identity. The key is written first: a cert without its key is useless. */
export function saveIdentity(dir: string, i: IdentityFile & { keyPem: string; certPem: string; caPem: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // key and cert must change together: stage both, then rename the key, the cert, the metadata.
  writeAtomically(join(dir, 'key.pem'), i.keyPem, 0o600);
  writeAtomically(join(dir, 'cert.pem'), i.certPem, 0o644);
  writeAtomically(join(dir, 'ca.pem'), i.caPem, 0o644);
  const meta: IdentityFile = { center_url: i.center_url, id: i.id, role: i.role, ca_sha256: i.ca_sha256, enrolled_at: i.enrolled_at };
  writeAtomically(join(dir, 'identity.json'), JSON.stringify(meta, null, 2) + '\n', 0o644);
}
