// The CA as the running center uses it: loaded from the data directory, signs agent certificates.
import { readFileSync } from 'node:fs';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { centerPaths } from './center-paths.ts';
import { importPrivateKey, spkiSha256, type Issuer } from './pki/x509.ts';

export interface CenterCa extends Issuer {
  readonly caSha256: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
}

export async function loadCenterCa(dataDir: string): Promise<CenterCa> {
  const p = centerPaths(dataDir);
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      throw new DaemonEyeError('DE_CENTER_NOT_INITIALISED', `cannot read ${f}`);
    }
  };
  const certPem = read(p.caCert);
  return {
    certPem, signingKey: await importPrivateKey(read(p.caKey)), caSha256: spkiSha256(certPem),
    serverCertPem: read(p.serverCert), serverKeyPem: read(p.serverKey),
  };
}
